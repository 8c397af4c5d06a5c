/**
 * The per-entry half of bulk verification, run inside worker threads (`verify-pool.ts`) or inline
 * for small inputs: decode + schema + canonical form + signature (`validateEntry`), the entry
 * hash (checked against the stored one when given), and the Merkle leaf hash. Log-state rules
 * (seq uniqueness, tree, checkpoints) stay with the caller, which sees entries in order.
 */
import { hash } from 'node:crypto'
import { CommonsError } from '../errors.js'
import { validateEntry } from './entry.js'
import { leafHashNode } from './hash-node.js'

/** One entry to check: its log index, the raw 32-byte hash stored beside it (if any) and its bytes. */
export interface ChunkItem {
  readonly index: number
  readonly hash?: Uint8Array
  readonly bytes: Uint8Array
}

/** Result of checking a chunk; stops at the first bad entry. */
export interface ChunkResult {
  /** Entries checked OK before the first error (a prefix of the chunk). */
  readonly ok: number
  /** Packed 32-byte leaf hashes of the `ok` entries. */
  readonly leaves: Uint8Array
  readonly authors: string[]
  readonly seqs: number[]
  readonly kinds: string[]
  /** Hex entry hashes. */
  readonly hashes: string[]
  readonly error?: { readonly index: number; readonly code: string; readonly message: string }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Checks entries in order for `network`, stopping at the first failure. */
export function verifyChunk(items: readonly ChunkItem[], network: string): ChunkResult {
  const leaves = new Uint8Array(items.length * 32)
  const authors: string[] = []
  const seqs: number[] = []
  const kinds: string[] = []
  const hashes: string[] = []
  const stop = (i: number, index: number, code: string, message: string): ChunkResult => ({
    ok: i,
    leaves: leaves.slice(0, i * 32),
    authors,
    seqs,
    kinds,
    hashes,
    error: { index, code, message },
  })
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    let entry
    try {
      entry = validateEntry(item.bytes, network)
    } catch (err) {
      return stop(i, item.index, err instanceof CommonsError ? err.code : 'invalid_entry', (err as Error).message)
    }
    // OpenSSL SHA-256: for entry-sized inputs it beats the JS implementation here.
    const digest = hash('sha256', item.bytes, 'buffer')
    if (item.hash !== undefined && !sameBytes(item.hash, digest)) {
      return stop(i, item.index, 'hash_mismatch', 'stored entry hash does not match the entry bytes')
    }
    leaves.set(leafHashNode(item.bytes), i * 32)
    authors.push(entry.author)
    seqs.push(entry.seq)
    kinds.push(entry.kind)
    hashes.push(digest.toString('hex'))
  }
  return { ok: items.length, leaves, authors, seqs, kinds, hashes }
}
