/**
 * How a chunk of entries travels between `verify-pool.ts` and its threads: one transferable
 * buffer with offsets. Structured-cloning many small Buffers copies each one's backing store
 * (often a shared 8 KiB pool), so entries travel packed.
 */
import type { ChunkItem } from './verify-chunk.js'

/** A chunk as posted to a verifier thread. `network` travels per chunk: one pool serves any log. */
export interface PackedChunk {
  readonly id: number
  readonly network: string
  readonly indexes: Float64Array
  /** Packed 32-byte stored entry hashes, or empty when the items carry none. */
  readonly hashes: Uint8Array
  readonly data: Uint8Array
  readonly offsets: Uint32Array
}

/** Packs items (all with `hash`, or none) for a thread. */
export function pack(id: number, network: string, items: readonly ChunkItem[]): PackedChunk {
  const n = items.length
  const offsets = new Uint32Array(n + 1)
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + items[i]!.bytes.length
  const data = new Uint8Array(offsets[n]!)
  const indexes = new Float64Array(n)
  const withHashes = n > 0 && items[0]!.hash !== undefined
  const hashes = new Uint8Array(withHashes ? n * 32 : 0)
  for (let i = 0; i < n; i++) {
    const it = items[i]!
    data.set(it.bytes, offsets[i]!)
    indexes[i] = it.index
    if (withHashes) {
      if (it.hash === undefined) throw new TypeError('chunk mixes items with and without stored hashes')
      hashes.set(it.hash, i * 32)
    }
  }
  return { id, network, indexes, hashes, data, offsets }
}

/** Buffers of a packed chunk to transfer (not copy) with `postMessage`. */
export function transferList(chunk: PackedChunk): ArrayBuffer[] {
  return [chunk.data.buffer, chunk.offsets.buffer, chunk.indexes.buffer, chunk.hashes.buffer] as ArrayBuffer[]
}

/** Inverse of {@link pack} (in the thread): views into the transferred buffers, no copies. */
export function unpack(chunk: PackedChunk): ChunkItem[] {
  const withHashes = chunk.hashes.length > 0
  const out: ChunkItem[] = new Array(chunk.indexes.length)
  for (let i = 0; i < chunk.indexes.length; i++) {
    const bytes = chunk.data.subarray(chunk.offsets[i]!, chunk.offsets[i + 1]!)
    const index = chunk.indexes[i]!
    out[i] = withHashes ? { index, hash: chunk.hashes.subarray(i * 32, i * 32 + 32), bytes } : { index, bytes }
  }
  return out
}

/** A request to check a range of a stored log in a thread (`verify-range.ts`). */
export interface RangeRequest {
  readonly id: number
  readonly path: string
  readonly network: string
  readonly from: number
  readonly length: number
  readonly end: number
}
