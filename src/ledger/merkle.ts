/**
 * RFC 9162 §2.1 Merkle tree hash, inclusion proofs and consistency proofs.
 *
 * Pure functions over byte arrays: no I/O, no node:* imports, so the web UI's in-browser verifier
 * uses this very module (hashing through `@noble/hashes`, not node:crypto). Every hash is a
 * `Uint8Array` of 32 bytes; `leafHashes` are already hashed with {@link leafHash}.
 *
 * Proofs received from a peer are untrusted input: the verifiers never throw on malformed proofs,
 * they return `false`.
 */
import { sha256 } from '@noble/hashes/sha2.js'

/** Size in bytes of every hash in the tree (SHA-256). */
export const HASH_SIZE = 32

/** A 32-byte SHA-256 digest. */
export type Hash = Uint8Array

const LEAF_PREFIX = 0x00
const NODE_PREFIX = 0x01

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export function leafHash(data: Uint8Array): Hash {
  const buf = new Uint8Array(data.length + 1)
  buf[0] = LEAF_PREFIX
  buf.set(data, 1)
  return sha256(buf)
}

/** RFC 9162 §2.1.1: HASH(0x01 || left || right), the hash of an interior node. */
export function nodeHash(left: Hash, right: Hash): Hash {
  const buf = new Uint8Array(1 + 2 * HASH_SIZE)
  buf[0] = NODE_PREFIX
  buf.set(left, 1)
  buf.set(right, 1 + HASH_SIZE)
  return sha256(buf)
}

/** RFC 9162 §2.1.1: the hash of an empty tree is the hash of the empty string. */
export function emptyRoot(): Hash {
  return sha256(new Uint8Array(0))
}

/** Largest power of two strictly smaller than `n` (n ≥ 2): the split point `k` of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** Half-open range of leaf indexes `[lo, hi)` whose subtree hash appears in a proof. */
export type LeafRange = readonly [lo: number, hi: number]

function mth(leaves: readonly Hash[], lo: number, hi: number): Hash {
  const n = hi - lo
  if (n === 1) return leaves[lo]!
  const k = splitPoint(n)
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi))
}

/** RFC 9162 §2.1.1: MTH(D[n]) of the leaves already hashed with {@link leafHash}. */
export function rootHash(leafHashes: readonly Hash[]): Hash {
  if (leafHashes.length === 0) return emptyRoot()
  return mth(leafHashes, 0, leafHashes.length)
}

/** Hash of the RFC 9162 subtree over leaves `[lo, hi)` (hi > lo). */
export function rangeHash(leafHashes: readonly Hash[], range: LeafRange): Hash {
  return mth(leafHashes, range[0], range[1])
}

function checkIndex(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`)
  }
}

/**
 * RFC 9162 §2.1.3.1 PATH(m, D[n]) as the leaf ranges whose subtree hashes form the proof, in
 * proof order. Shared by the in-memory functions here and the stored tree (`tree.ts`).
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkIndex('size', size, 1, Number.MAX_SAFE_INTEGER)
  checkIndex('index', index, 0, size - 1)
  const out: LeafRange[] = []
  const path = (m: number, lo: number, hi: number): void => {
    const n = hi - lo
    if (n <= 1) return
    const k = splitPoint(n)
    if (m < k) {
      path(m, lo, lo + k)
      out.push([lo + k, hi])
    } else {
      path(m - k, lo + k, hi)
      out.push([lo, lo + k])
    }
  }
  path(index, 0, size)
  return out
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges, in proof order.
 * Empty when oldSize is 0 or equals newSize.
 */
export function consistencyProofRanges(oldSize: number, newSize: number): LeafRange[] {
  checkIndex('newSize', newSize, 0, Number.MAX_SAFE_INTEGER)
  checkIndex('oldSize', oldSize, 0, newSize)
  const out: LeafRange[] = []
  if (oldSize === 0 || oldSize === newSize) return out
  const subproof = (m: number, lo: number, hi: number, complete: boolean): void => {
    const n = hi - lo
    if (m === n) {
      if (!complete) out.push([lo, hi])
      return
    }
    const k = splitPoint(n)
    if (m <= k) {
      subproof(m, lo, lo + k, complete)
      out.push([lo + k, hi])
    } else {
      subproof(m - k, lo + k, hi, false)
      out.push([lo, lo + k])
    }
  }
  subproof(oldSize, 0, newSize, true)
  return out
}

/** RFC 9162 §2.1.3.1: the inclusion proof (audit path) of leaf `index` in the tree of `leafHashes`. */
export function inclusionProof(index: number, leafHashes: readonly Hash[]): Hash[] {
  return inclusionProofRanges(index, leafHashes.length).map((r) => rangeHash(leafHashes, r))
}

/** RFC 9162 §2.1.4.1: the consistency proof from the tree's first `oldSize` leaves to all of them. */
export function consistencyProof(oldSize: number, leafHashes: readonly Hash[]): Hash[] {
  return consistencyProofRanges(oldSize, leafHashes.length).map((r) => rangeHash(leafHashes, r))
}

function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === HASH_SIZE
}

function equalHash(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

// Bit operations through arithmetic: `>>` would truncate sizes to 32 bits.
const odd = (x: number): boolean => x % 2 === 1
const half = (x: number): number => Math.floor(x / 2)

/**
 * RFC 9162 §2.1.3.2: true iff `proof` proves that `leafHash` is leaf `index` of the tree of
 * `size` leaves whose root is `root`. Never throws.
 */
export function verifyInclusion(leafHash: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!isSize(index) || !isSize(size) || index >= size) return false
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false
  let fn = index
  let sn = size - 1
  let r = leafHash
  for (const p of proof) {
    if (sn === 0) return false
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r)
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn)
          sn = half(sn)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = half(fn)
    sn = half(sn)
  }
  return sn === 0 && equalHash(r, root)
}

/**
 * RFC 9162 §2.1.4.2: true iff `proof` proves that the tree of `oldSize` leaves with root `oldRoot`
 * is a prefix of the tree of `newSize` leaves with root `newRoot`. Never throws.
 * A tree of size 0 is a prefix of every tree (empty proof); equal sizes need equal roots.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Hash[],
  oldRoot: Hash,
  newRoot: Hash,
): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false
  if (!Array.isArray(proof) || !proof.every(isHash)) return false
  if (oldSize === 0) return proof.length === 0
  if (!isHash(oldRoot) || !isHash(newRoot)) return false
  if (oldSize === newSize) return proof.length === 0 && equalHash(oldRoot, newRoot)
  if (proof.length === 0) return false
  // Step 1: if oldSize is an exact power of 2, the old root is the first node of the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof]
  let fn = oldSize - 1
  let sn = newSize - 1
  while (odd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  let fr = path[0]!
  let sr = path[0]!
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!
    if (sn === 0) return false
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn)
          sn = half(sn)
        }
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = half(fn)
    sn = half(sn)
  }
  return equalHash(fr, oldRoot) && equalHash(sr, newRoot) && sn === 0
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false
  while (n % 2 === 0) n /= 2
  return n === 1
}
