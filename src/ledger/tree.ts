/**
 * The stored Merkle tree: the same RFC 9162 tree as `merkle.ts`, kept as the hashes of its complete
 * subtrees so that appends and proofs cost O(log n) hash reads instead of O(n) hashing.
 *
 * Layout follows Go's `golang.org/x/mod/sumdb/tlog` ("stored hash index"): the hash of the
 * complete subtree at `level` L and position `n` (leaves [n·2^L, (n+1)·2^L)) gets one integer
 * index, assigned in the order the hashes become known while appending. Storage hides behind
 * the one-method {@link HashReader}, so the same code runs over SQLite or memory.
 *
 * Pure and browser-safe (no node:* imports).
 */
import { emptyRoot, consistencyProofRanges, inclusionProofRanges, nodeHash, type Hash, type LeafRange } from './merkle.js'

/** Reads stored hashes by their stored index; returns them in the order asked. */
export interface HashReader {
  readHashes(indexes: readonly number[]): Hash[]
}

/** One complete subtree: `level` L covers leaves [index·2^L, (index+1)·2^L). */
export interface Subtree {
  readonly level: number
  readonly index: number
}

/**
 * tlog's StoredHashIndex: the storage index of the hash of subtree (level, n). Level L's n-th hash
 * is written right after level L+1's... i.e. right after the leaf that completes it.
 */
export function storedHashIndex(level: number, n: number): number {
  for (let l = level; l > 0; l--) n = 2 * n + 1
  // Level 0's n-th hash sits at n + n/2 + n/4 + … (the hashes stored before it), plus `level`.
  let i = 0
  for (; n > 0; n = Math.floor(n / 2)) i += n
  return i + level
}

/** Number of hashes stored for a tree of `size` leaves (tlog's StoredHashCount). */
export function storedHashCount(size: number): number {
  if (size === 0) return 0
  let count = storedHashIndex(0, size - 1) + 1
  for (let i = size - 1; i % 2 === 1; i = Math.floor(i / 2)) count++
  return count
}

/** Decomposes leaves [lo, hi) into maximal aligned complete subtrees, left to right. */
export function subtreesOf(lo: number, hi: number): Subtree[] {
  const out: Subtree[] = []
  while (lo < hi) {
    let level = 0
    let width = 1
    while (lo % (width * 2) === 0 && lo + width * 2 <= hi) {
      width *= 2
      level++
    }
    out.push({ level, index: lo / width })
    lo += width
  }
  return out
}

/** RFC 9162 hash of a range whose complete subtrees are `parts` (right-edge fold, as MTH splits). */
function foldRight(parts: readonly Hash[]): Hash {
  let h = parts[parts.length - 1]!
  for (let i = parts.length - 2; i >= 0; i--) h = nodeHash(parts[i]!, h)
  return h
}

function rangesFromStore(ranges: readonly LeafRange[], reader: HashReader): Hash[] {
  const plans = ranges.map(([lo, hi]) => subtreesOf(lo, hi))
  const indexes = plans.flat().map((s) => storedHashIndex(s.level, s.index))
  const hashes = indexes.length === 0 ? [] : reader.readHashes(indexes)
  if (hashes.length !== indexes.length) throw new RangeError(`hash reader returned ${hashes.length} of ${indexes.length} hashes`)
  let at = 0
  return plans.map((plan) => {
    const parts = hashes.slice(at, at + plan.length)
    at += plan.length
    return foldRight(parts)
  })
}

/** MTH of the first `size` leaves, from stored hashes (O(log size) reads). */
export function treeHashFromStore(size: number, reader: HashReader): Hash {
  if (size === 0) return emptyRoot()
  return rangesFromStore([[0, size]], reader)[0]!
}

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size`, from stored hashes. */
export function inclusionProofFromStore(index: number, size: number, reader: HashReader): Hash[] {
  return rangesFromStore(inclusionProofRanges(index, size), reader)
}

/** RFC 9162 §2.1.4.1 consistency proof from `oldSize` to `newSize`, from stored hashes. */
export function consistencyProofFromStore(oldSize: number, newSize: number, reader: HashReader): Hash[] {
  return rangesFromStore(consistencyProofRanges(oldSize, newSize), reader)
}

/** A hash to persist at a stored index. */
export interface StoredHash {
  readonly index: number
  readonly hash: Hash
}

/**
 * RFC 9162 interior node hash, HASH(0x01 || left || right). Defaults to `merkle.ts`'s `nodeHash`;
 * node-side bulk paths pass the OpenSSL one (`hash-node.ts`), which computes the same bytes faster.
 */
export type NodeHasher = (left: Hash, right: Hash) => Hash

/**
 * The right edge of the tree (its compact range from 0): appends a leaf hash in O(1) amortized
 * hashing with no reads, and reports the hashes to store. Root in O(log n).
 */
export class TreeAppender {
  #size: number
  // Complete subtrees covering [0, size), left to right, strictly decreasing levels.
  readonly #edge: Array<{ level: number; hash: Hash }>
  readonly #hash: NodeHasher

  private constructor(size: number, edge: Array<{ level: number; hash: Hash }>, hash: NodeHasher) {
    this.#size = size
    this.#edge = edge
    this.#hash = hash
  }

  /** An appender for an empty tree. */
  static empty(hash: NodeHasher = nodeHash): TreeAppender {
    return new TreeAppender(0, [], hash)
  }

  /** Resumes appending to a stored tree of `size` leaves (reads its O(log size) edge hashes). */
  static fromStore(size: number, reader: HashReader, hash: NodeHasher = nodeHash): TreeAppender {
    const parts = subtreesOf(0, size)
    const hashes = parts.length === 0 ? [] : reader.readHashes(parts.map((s) => storedHashIndex(s.level, s.index)))
    return new TreeAppender(
      size,
      parts.map((s, i) => ({ level: s.level, hash: hashes[i]! })),
      hash,
    )
  }

  /** An independent copy (e.g. to stage a batch and discard it if the transaction fails). */
  clone(): TreeAppender {
    return new TreeAppender(this.#size, this.#edge.map((e) => ({ ...e })), this.#hash)
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size
  }

  /** Appends one leaf hash; returns the new stored hashes (the leaf and every subtree it completes). */
  append(leaf: Hash): StoredHash[] {
    const n = this.#size
    const out: StoredHash[] = [{ index: storedHashIndex(0, n), hash: leaf }]
    this.#edge.push({ level: 0, hash: leaf })
    this.#size = n + 1
    while (this.#edge.length >= 2 && this.#edge[this.#edge.length - 1]!.level === this.#edge[this.#edge.length - 2]!.level) {
      const right = this.#edge.pop()!
      const left = this.#edge.pop()!
      const level = right.level + 1
      const hash = this.#hash(left.hash, right.hash)
      this.#edge.push({ level, hash })
      out.push({ index: storedHashIndex(level, this.#size / 2 ** level - 1), hash })
    }
    return out
  }

  /** RFC 9162 root hash of the leaves appended so far. */
  root(): Hash {
    if (this.#edge.length === 0) return emptyRoot()
    let h = this.#edge[this.#edge.length - 1]!.hash
    for (let i = this.#edge.length - 2; i >= 0; i--) h = this.#hash(this.#edge[i]!.hash, h)
    return h
  }
}

/** A {@link HashReader} over a plain array indexed by stored hash index (tests, small trees). */
export class MemoryHashStore implements HashReader {
  readonly hashes: Hash[] = []

  readHashes(indexes: readonly number[]): Hash[] {
    return indexes.map((i) => {
      const h = this.hashes[i]
      if (h === undefined) throw new RangeError(`no stored hash at index ${i}`)
      return h
    })
  }

  write(stored: readonly StoredHash[]): void {
    for (const s of stored) this.hashes[s.index] = s.hash
  }
}
