/**
 * The per-entry half of bulk verification, run inside worker threads (`verify-pool.ts`) or inline
 * for small inputs: decode + schema + canonical form + signature (`decodeEntry`), the stored entry
 * hash, and the Merkle leaf hash. Log-state rules (seq uniqueness, tree, checkpoints) stay with
 * the caller, which sees entries in order.
 */
import { createHash } from 'node:crypto'
import { CommonsError } from '../errors.js'
import { decodeEntry } from './entry.js'

const LEAF_PREFIX = new Uint8Array([0x00])

/** RFC 9162 leaf hash through OpenSSL: for entry-sized inputs it beats the JS SHA-256 here. */
function leafHashNode(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest()
}

/** One entry to check: its log index, the hash stored beside it (if any) and its bytes. */
export interface ChunkItem {
  readonly index: number
  readonly hash?: string
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
  readonly hashes: string[]
  readonly error?: { readonly index: number; readonly code: string; readonly message: string }
}

/** Checks entries in order for `network`, stopping at the first failure. */
export function verifyChunk(items: readonly ChunkItem[], network: string): ChunkResult {
  const leaves = new Uint8Array(items.length * 32)
  const authors: string[] = []
  const seqs: number[] = []
  const kinds: string[] = []
  const hashes: string[] = []
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    try {
      const d = decodeEntry(item.bytes, network)
      if (item.hash !== undefined && item.hash !== d.hash) {
        return { ok: i, leaves: leaves.slice(0, i * 32), authors, seqs, kinds, hashes, error: { index: item.index, code: 'hash_mismatch', message: 'stored entry hash does not match the entry bytes' } }
      }
      leaves.set(leafHashNode(item.bytes), i * 32)
      authors.push(d.entry.author)
      seqs.push(d.entry.seq)
      kinds.push(d.entry.kind)
      hashes.push(d.hash)
    } catch (err) {
      const code = err instanceof CommonsError ? err.code : 'invalid_entry'
      return { ok: i, leaves: leaves.slice(0, i * 32), authors, seqs, kinds, hashes, error: { index: item.index, code, message: (err as Error).message } }
    }
  }
  return { ok: items.length, leaves, authors, seqs, kinds, hashes }
}
