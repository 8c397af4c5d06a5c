/**
 * The parallel half of `log verify` (`audit.ts`): checks one aligned range of a stored log, read
 * straight from SQLite, inside a verifier thread (or inline). For each entry in order: present at
 * its index, `validateEntry` (schema, canonical form, network, signature), the stored hash column
 * = SHA-256 of the bytes, the stored author/seq columns = the entry's, and every stored tree hash
 * the range determines on its own. The range starts at a multiple of its power-of-two length, so
 * the tlog subtrees of levels up to log2(length) that end inside it are computed from its leaves
 * alone; higher levels, seq uniqueness and checkpoints need the whole log and stay with the caller,
 * which sees ranges in order. Stops at the first failure, so the caller can name the first bad
 * index of the whole log.
 *
 * Doing the reading here, not on the caller's thread, is what lets `log verify` use every core:
 * the caller's per-entry work drops to a map lookup.
 */
import { hash } from 'node:crypto'
import type Database from 'better-sqlite3'
import { CommonsError } from '../errors.js'
import type { Db } from '../store/db.js'
import { validateEntry } from './entry.js'
import { leafHashNode, nodeHashNode } from './hash-node.js'
import type { Hash } from './merkle.js'
import { storedHashIndex } from './tree.js'

/** What a range check found. */
export interface RangeResult {
  readonly from: number
  /** Entries of the range checked OK before the first failure (a prefix). */
  readonly ok: number
  /** Distinct authors of the range, in order of first appearance. */
  readonly authors: string[]
  /** Per checked entry: its author's position in `authors`. */
  readonly authorOf: Uint32Array
  /** Per checked entry: its seq. */
  readonly seqs: Float64Array
  /** Bodies of the checked `fork-proof` entries, with their log index (they convict witnesses: `convictions.ts`). */
  readonly forkProofs: Array<{ readonly index: number; readonly body: unknown }>
  /** Hash of the range's complete subtree (when the whole range is full and checked). */
  readonly root?: Hash
  readonly error?: { readonly index: number; readonly code: string; readonly message: string }
}

type EntryRow = [idx: number, hash: Buffer, author: string, seq: number, kind: string, data: Buffer]
type TreeRow = [id: number, hash: Buffer]

const statements = new WeakMap<Db, { entries: Database.Statement; tree: Database.Statement }>()

function prepared(db: Db): { entries: Database.Statement; tree: Database.Statement } {
  let s = statements.get(db)
  if (s === undefined) {
    s = {
      entries: db.prepare('SELECT idx, hash, author, seq, kind, data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx').raw(),
      tree: db.prepare('SELECT id, hash FROM log_tree WHERE id >= ? AND id < ? ORDER BY id').raw(),
    }
    statements.set(db, s)
  }
  return s
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Checks entries [from, from + length) of the log in `db` for `network`. `length` is a power of
 * two and `from` a multiple of it; `end` (≤ from + length) is where the log ends.
 */
export function verifyRange(db: Db, network: string, from: number, length: number, end: number): RangeResult {
  if (!Number.isSafeInteger(length) || length < 1 || (length & (length - 1)) !== 0 || from % length !== 0) {
    throw new RangeError(`range [${from}, +${length}) is not aligned to a power of two`)
  }
  const to = Math.min(end, from + length)
  const n = to - from
  const s = prepared(db)
  const rows = s.entries.all(from, to) as EntryRow[]
  // Every stored hash written while appending leaves [from, to) has an id in [lo, hi) (tlog
  // numbers hashes in write order); ids of levels above the range's are skipped here.
  const lo = storedHashIndex(0, from)
  const hi = storedHashIndex(0, to)
  const treeRows = s.tree.all(lo, hi) as TreeRow[]
  const tree: Array<Buffer | undefined> = new Array(hi - lo)
  for (const [id, hash] of treeRows) tree[id - lo] = hash

  const authors: string[] = []
  const authorIds = new Map<string, number>()
  const authorOf = new Uint32Array(n)
  const seqs = new Float64Array(n)
  const forkProofs: RangeResult['forkProofs'] = []
  // The range's right edge: complete subtrees of its leaves so far, strictly decreasing levels.
  const edge: Array<{ level: number; hash: Hash }> = []
  const result = (ok: number, error?: RangeResult['error'], root?: Hash): RangeResult => ({
    from,
    ok,
    authors,
    authorOf: authorOf.subarray(0, ok),
    seqs: seqs.subarray(0, ok),
    forkProofs: forkProofs.filter((p) => p.index < from + ok),
    ...(root === undefined ? {} : { root }),
    ...(error === undefined ? {} : { error }),
  })

  for (let i = 0; i < n; i++) {
    const index = from + i
    const row = rows[i]
    if (row === undefined || row[0] !== index) return result(i, { index, code: 'missing_entry', message: 'entry is missing' })
    const [, storedHash, storedAuthor, storedSeq, storedKind, data] = row
    let entry
    try {
      entry = validateEntry(data, network)
    } catch (err) {
      return result(i, { index, code: err instanceof CommonsError ? err.code : 'invalid_entry', message: (err as Error).message })
    }
    if (!sameBytes(storedHash, hash('sha256', data, 'buffer'))) {
      return result(i, { index, code: 'hash_mismatch', message: 'stored entry hash does not match the entry bytes' })
    }
    // The kind column finds fork-proof entries for the store (`LogStore.convictions`): a row hiding one must not pass.
    if (storedAuthor !== entry.author || storedSeq !== entry.seq || storedKind !== entry.kind) {
      return result(i, { index, code: 'bad_index_row', message: 'stored author/seq/kind columns disagree with the entry' })
    }
    if (entry.kind === 'fork-proof') forkProofs.push({ index, body: entry.body })
    let a = authorIds.get(entry.author)
    if (a === undefined) {
      a = authors.length
      authors.push(entry.author)
      authorIds.set(entry.author, a)
    }
    authorOf[i] = a
    seqs[i] = entry.seq

    // Append the leaf; each subtree it completes must equal the stored hash (RFC 9162, tlog ids).
    edge.push({ level: 0, hash: leafHashNode(data) })
    let completed = edge[edge.length - 1]!
    for (;;) {
      const globalIndex = (from + i + 1) / 2 ** completed.level - 1
      const stored = tree[storedHashIndex(completed.level, globalIndex) - lo]
      if (stored === undefined || !sameBytes(stored, completed.hash)) {
        return result(i, { index, code: 'tree_mismatch', message: 'stored tree hash does not match the entries' })
      }
      if (edge.length < 2 || edge[edge.length - 2]!.level !== completed.level) break
      const right = edge.pop()!
      const left = edge.pop()!
      completed = { level: right.level + 1, hash: nodeHashNode(left.hash, right.hash) }
      edge.push(completed)
    }
  }
  return result(n, undefined, n === length ? edge[0]!.hash : undefined)
}
