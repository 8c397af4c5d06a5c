/**
 * Bulk entry verification over worker threads. Ed25519 verification is the log's speed limit
 * (DESIGN.md: ~12k verifies/s per core through node:crypto), so `log verify` and sync spread
 * chunks of entries over one worker per core. Results come back per chunk, in submission order.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { verifyChunk, type ChunkItem, type ChunkResult } from './verify-chunk.js'

/** Below this many entries, verifying inline beats starting workers. */
export const INLINE_LIMIT = 2048

interface Job {
  resolve: (r: ChunkResult) => void
  reject: (e: unknown) => void
}

/** A pool of verifier threads for one network. `close()` when done. */
export class EntryVerifierPool {
  readonly #workers: Worker[] = []
  readonly #jobs = new Map<number, Job>()
  readonly #idle: Worker[] = []
  readonly #queue: PackedChunk[] = []
  #nextId = 0
  #closed = false

  constructor(readonly network: string, readonly threads = Math.max(1, availableParallelism())) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./verify-worker-boot.mjs', import.meta.url), { workerData: { network } })
      w.on('message', (msg: { id: number; result: ChunkResult }) => {
        const job = this.#jobs.get(msg.id)
        this.#jobs.delete(msg.id)
        job?.resolve(msg.result)
        this.#dispatch(w)
      })
      w.on('error', (err) => {
        for (const job of this.#jobs.values()) job.reject(err)
        this.#jobs.clear()
      })
      this.#workers.push(w)
      this.#idle.push(w)
    }
  }

  #dispatch(w: Worker): void {
    const next = this.#queue.shift()
    if (next === undefined) {
      this.#idle.push(w)
      return
    }
    post(w, next)
  }

  /** Verifies a chunk of entries on a free thread. */
  verify(items: ChunkItem[]): Promise<ChunkResult> {
    if (this.#closed) return Promise.reject(new Error('verifier pool is closed'))
    const id = this.#nextId++
    const promise = new Promise<ChunkResult>((resolve, reject) => this.#jobs.set(id, { resolve, reject }))
    const packed = pack(id, items)
    const w = this.#idle.shift()
    if (w === undefined) this.#queue.push(packed)
    else post(w, packed)
    return promise
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all(this.#workers.map((w) => w.terminate()))
  }
}

/**
 * A chunk as one transferable buffer: structured-cloning many small Buffers copies each one's
 * backing store (possibly a shared pool), so entries travel packed, with offsets.
 */
export interface PackedChunk {
  readonly id: number
  readonly indexes: number[]
  readonly hashes: Array<string | undefined>
  readonly data: Uint8Array
  readonly offsets: Uint32Array
}

function pack(id: number, items: readonly ChunkItem[]): PackedChunk {
  const offsets = new Uint32Array(items.length + 1)
  for (let i = 0; i < items.length; i++) offsets[i + 1] = offsets[i]! + items[i]!.bytes.length
  const data = new Uint8Array(offsets[items.length]!)
  items.forEach((it, i) => data.set(it.bytes, offsets[i]!))
  return { id, indexes: items.map((i) => i.index), hashes: items.map((i) => i.hash), data, offsets }
}

function post(w: Worker, chunk: PackedChunk): void {
  w.postMessage(chunk, [chunk.data.buffer as ArrayBuffer, chunk.offsets.buffer as ArrayBuffer])
}

/** Inverse of the packing done by the pool (used in the worker). */
export function unpack(chunk: PackedChunk): ChunkItem[] {
  return chunk.indexes.map((index, i) => {
    const hash = chunk.hashes[i]
    const bytes = chunk.data.subarray(chunk.offsets[i]!, chunk.offsets[i + 1]!)
    return hash === undefined ? { index, bytes } : { index, hash, bytes }
  })
}

/** Something that verifies chunks: the pool, or inline for small inputs. */
export interface ChunkVerifier {
  verify(items: ChunkItem[]): Promise<ChunkResult>
  close(): Promise<void>
}

/** A pool for large jobs, an inline verifier for small ones (`count` ≤ INLINE_LIMIT). */
export function chunkVerifierFor(network: string, count: number, threads?: number): ChunkVerifier {
  if (count <= INLINE_LIMIT || threads === 0) {
    return { verify: async (items) => verifyChunk(items, network), close: async () => {} }
  }
  return new EntryVerifierPool(network, threads)
}
