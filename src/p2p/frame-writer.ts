import type { Stream } from '@libp2p/interface'
import { encodeFrame, type RequestFrame, type WorkerFrame } from './frames.js'

/**
 * Writes frames to a libp2p stream in order, honouring back-pressure: while `send` reports a
 * full buffer, later frames wait in a queue until the stream drains. The common case (buffer has
 * room) sends synchronously without allocating a promise per token.
 */
export class FrameWriter {
  readonly #stream: Stream
  readonly #queue: Array<RequestFrame | WorkerFrame> = []
  #draining: Promise<void> | undefined
  #failed: unknown

  constructor(stream: Stream) {
    this.#stream = stream
  }

  /** Queues one frame; throws if an earlier write failed (the stream is gone). */
  write(frame: RequestFrame | WorkerFrame): void {
    if (this.#failed !== undefined) throw this.#failed
    if (this.#draining !== undefined) {
      this.#queue.push(frame)
      return
    }
    if (!this.#send(frame)) this.#draining = this.#drain()
  }

  /** Resolves once every queued frame has been handed to the stream. */
  async flush(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining
    if (this.#failed !== undefined) throw this.#failed
  }

  #send(frame: RequestFrame | WorkerFrame): boolean {
    try {
      return this.#stream.send(encodeFrame(frame))
    } catch (err) {
      this.#failed = err
      return true
    }
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        await this.#stream.onDrain()
        let full = false
        while (!full && this.#queue.length > 0) full = !this.#send(this.#queue.shift() as RequestFrame | WorkerFrame)
        if (!full) break
      }
    } catch (err) {
      this.#failed = err
    } finally {
      this.#draining = undefined
    }
  }
}
