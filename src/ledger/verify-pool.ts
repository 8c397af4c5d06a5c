/**
 * Bulk entry verification over worker threads. Ed25519 verification is the log's speed limit
 * (DESIGN.md, "Measured facts"), so `log verify`, sync and bulk appends spread chunks of entries
 * over one thread per core. Results come back per chunk as promises.
 *
 * One pool per process, started on first use and kept (`sharedVerifierPool`): thread start-up is
 * paid once, not per sync or per audit. Idle threads are unref'd so they never keep a process
 * alive; threads with work in flight are ref'd so an awaited chunk does. Threads load a plain
 * JavaScript bundle of `verify-worker.ts` (`verify-worker-bundle.ts`).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { verifyChunk, type ChunkItem, type ChunkResult } from './verify-chunk.js'
import type { RangeResult } from './verify-range.js'
import { verifierWorkerUrl } from './verify-worker-bundle.js'
import { pack, transferList, type PackedChunk, type RangeRequest } from './verify-wire.js'

/** Below this many entries, verifying inline beats handing chunks to threads. */
export const INLINE_LIMIT = 2048

interface Job {
  readonly message: PackedChunk | RangeRequest
  readonly transfer: ArrayBuffer[]
  readonly resolve: (r: never) => void
  readonly reject: (e: unknown) => void
}

type Reply = { id: number; result: ChunkResult } | { id: number; range: { ok: true; value: RangeResult } | { ok: false; message: string } }

interface Slot {
  readonly worker: Worker
  job: Job | undefined
}

/** A pool of verifier threads; chunks carry their network, so one pool serves every log. */
export class EntryVerifierPool {
  readonly #slots: Slot[] = []
  readonly #queue: Job[] = []
  #nextId = 0
  #closed = false

  constructor(readonly threads = Math.max(1, availableParallelism())) {
    const url = verifierWorkerUrl()
    for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn(url))
  }

  #spawn(url: URL): Slot {
    // execArgv: [] — the bundle is plain JavaScript; inheriting `--import tsx` would only slow
    // the thread's start (the tsx fallback boot file registers tsx itself).
    const worker = new Worker(url, { execArgv: [] })
    const slot: Slot = { worker, job: undefined }
    worker.on('message', (msg: Reply) => {
      const job = slot.job
      slot.job = undefined
      if (job !== undefined && job.message.id === msg.id) {
        const settle = job.resolve as (r: ChunkResult | RangeResult) => void
        if ('result' in msg) settle(msg.result)
        else if (msg.range.ok) settle(msg.range.value)
        else job.reject(new Error(msg.range.message))
      }
      this.#feed(slot)
    })
    const fail = (err: unknown): void => {
      const job = slot.job
      slot.job = undefined
      job?.reject(err)
      // A dead thread fails its own chunk; the pool is unusable for the rest (callers abort).
      this.#closed = true
      for (const queued of this.#queue.splice(0)) queued.reject(err)
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (!this.#closed || slot.job !== undefined) fail(new Error(`verifier thread exited (code ${code})`))
    })
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref()
    return slot
  }

  #feed(slot: Slot): void {
    const next = this.#queue.shift()
    if (next === undefined) {
      slot.worker.unref()
      return
    }
    slot.job = next
    slot.worker.ref()
    slot.worker.postMessage(next.message, next.transfer)
  }

  /** False once closed or after a thread died. */
  get usable(): boolean {
    return !this.#closed
  }

  /** Verifies a chunk of entries of `network` on a free thread. */
  verify(network: string, items: readonly ChunkItem[]): Promise<ChunkResult> {
    const chunk = pack(this.#nextId++, network, items)
    return this.#submit<ChunkResult>(chunk, transferList(chunk))
  }

  /**
   * Checks entries [from, from + length) of the stored log in the SQLite file `path` on a free
   * thread, which reads them itself (`verify-range.ts`; `end` is where the log ends).
   */
  verifyRange(path: string, network: string, from: number, length: number, end: number): Promise<RangeResult> {
    return this.#submit<RangeResult>({ id: this.#nextId++, path, network, from, length, end }, [])
  }

  #submit<T>(message: PackedChunk | RangeRequest, transfer: ArrayBuffer[]): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('verifier pool is closed'))
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ message, transfer, resolve: resolve as (r: never) => void, reject })
      const idle = this.#slots.find((s) => s.job === undefined)
      if (idle !== undefined) this.#feed(idle)
    })
  }

  /** Stops the threads; chunks not yet done are rejected. */
  async close(): Promise<void> {
    this.#closed = true
    for (const queued of this.#queue.splice(0)) queued.reject(new Error('verifier pool is closed'))
    await Promise.all(this.#slots.map((s) => s.worker.terminate()))
  }
}

let shared: EntryVerifierPool | undefined

/** The process's pool (one thread per core), started on first call and restarted if a thread died. */
export function sharedVerifierPool(): EntryVerifierPool {
  if (shared === undefined || !shared.usable) shared = new EntryVerifierPool()
  return shared
}

/** Something that verifies chunks of one network: the shared pool, or inline for small inputs. */
export interface ChunkVerifier {
  verify(items: ChunkItem[]): Promise<ChunkResult>
  /** Releases what this verifier owns (the shared pool stays up for the next user). */
  close(): Promise<void>
}

/**
 * A verifier for `count` entries of `network`: inline when small (`count` ≤ INLINE_LIMIT) or
 * `threads` is 0, the shared pool by default, or a private pool of `threads` threads.
 */
export function chunkVerifierFor(network: string, count: number, threads?: number): ChunkVerifier {
  if (count <= INLINE_LIMIT || threads === 0) {
    return { verify: async (items) => verifyChunk(items, network), close: async () => {} }
  }
  if (threads === undefined) {
    const pool = sharedVerifierPool()
    return { verify: (items) => pool.verify(network, items), close: async () => {} }
  }
  const pool = new EntryVerifierPool(threads)
  return { verify: (items) => pool.verify(network, items), close: () => pool.close() }
}
