import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { CommonsError } from '../errors.js'
import { bytesToHex, type KeyPair } from '../identity/index.js'
import type { GeneratedToken, GenerateResult } from '../runtime/engine.js'
import type { InferenceRequest, InferenceService } from '../runtime/service.js'
import { JOB_PROTOCOL } from './constants.js'
import { InvalidReceiptError, MalformedFrameError, RemoteJobError, WorkerLostError } from './errors.js'
import { FrameWriter } from './frame-writer.js'
import { FrameDecoder, MAX_FRAME_BYTES, RequestFrameSchema, parseWorkerFrame, readFrames, type RequestFrame } from './frames.js'
import type { CommonsHost } from './host.js'
import type { P2pMetrics } from './p2p-metrics.js'
import { nodeIdOfPeer } from './peer-id.js'
import type { StreamPool } from './stream-pool.js'
import { DEFAULT_PEER_LIMITS, PeerRateLimiter, type PeerLimits } from './rate-limit.js'
import { checkReceipt, outputHash, promptHash, receiptId, signReceipt, type SignedReceipt } from './receipt.js'

/**
 * `/commons/job/1`: one job per stream. The gateway sends a request frame and keeps its side
 * open; the worker streams token frames and ends with a signed receipt (or an error frame) and
 * closes. Closing or resetting the stream from the gateway cancels the job: the worker aborts
 * the engine's generation, freeing its slot. See `frames.ts` for the wire format.
 */

export interface JobWorkerOptions {
  readonly host: CommonsHost
  readonly keyPair: KeyPair
  readonly metrics: P2pMetrics
  /** Runs jobs on this node's engines (the local inference service). */
  readonly service: InferenceService
  readonly limits?: PeerLimits
  /** Time a gateway has to send its request after opening the stream (default 5 s). */
  readonly requestTimeoutMs?: number
  /** Inbound job streams open at once, over all peers (default 256). */
  readonly maxInboundStreams?: number
  /** A job silent this long gets an `alive` frame, so gateways do not take a queue for a stall (default 1 s). */
  readonly aliveIntervalMs?: number
}

/** The worker side of `/commons/job/1`. A `Startable`: `start` registers the handler, `stop` removes it. */
export class JobWorker {
  readonly #options: JobWorkerOptions
  readonly #limiter: PeerRateLimiter
  readonly #running = new Set<AbortController>()

  constructor(options: JobWorkerOptions) {
    this.#options = options
    this.#limiter = new PeerRateLimiter(options.limits ?? DEFAULT_PEER_LIMITS)
  }

  async start(): Promise<void> {
    await this.#options.host.handle(JOB_PROTOCOL, (stream, connection) => this.#serve(stream, connection), {
      maxInboundStreams: this.#options.maxInboundStreams ?? 256,
    })
  }

  async stop(): Promise<void> {
    for (const c of this.#running) c.abort()
    await this.#options.host.unhandle(JOB_PROTOCOL).catch(() => {})
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const { metrics } = this.#options
    const gateway = nodeIdOfPeer(connection.remotePeer)
    const writer = new FrameWriter(stream)
    const refuse = async (reason: string, code: string, message: string, status: number): Promise<void> => {
      metrics.jobRejected.inc({ reason })
      try {
        writer.write({ type: 'error', code, message, status })
        await writer.flush()
        await stream.close({ signal: AbortSignal.timeout(2_000) })
      } catch {
        stream.abort(new Error(message))
      }
    }
    if (gateway === undefined) return refuse('bad_peer', 'invalid_request_error', 'job requests need an Ed25519 peer id', 400)
    const peerKey = connection.remotePeer.toString()
    const admitted = this.#limiter.acquire(peerKey)
    if (admitted !== 'ok') {
      return refuse('rate_limited', 'rate_limit_exceeded', `too many ${admitted === 'rate' ? 'requests' : 'concurrent jobs'} from this peer`, 429)
    }
    const controller = new AbortController()
    this.#running.add(controller)
    try {
      const frames = readFrames(stream, RequestFrameSchema, MAX_FRAME_BYTES)[Symbol.asyncIterator]()
      let first: IteratorResult<RequestFrame>
      const timer = setTimeout(() => stream.abort(new Error('no request frame in time')), this.#options.requestTimeoutMs ?? 5_000)
      try {
        first = await frames.next()
      } catch (err) {
        if (err instanceof MalformedFrameError) return await refuse(err.message.includes('length') ? 'oversized' : 'malformed', err.code, err.message, 400)
        metrics.jobRejected.inc({ reason: 'stream_error' })
        return
      } finally {
        clearTimeout(timer)
      }
      if (first.done === true) return refuse('malformed', 'malformed_frame', 'stream ended before the request frame', 400)
      // Anything after the request is either the gateway half-closing (fine) or a reset (cancel).
      const cancel = (): void => controller.abort()
      stream.addEventListener('close', cancel, { once: true })
      frames.next().then((r) => { if (r.done !== true) cancel() }, cancel)
      await this.#run(first.value, gateway, stream, writer, controller.signal)
    } finally {
      this.#running.delete(controller)
      this.#limiter.release(peerKey)
    }
  }

  async #run(frame: RequestFrame, gateway: string, stream: Stream, writer: FrameWriter, signal: AbortSignal): Promise<void> {
    const { service, keyPair } = this.#options
    const request: InferenceRequest = frame.request
    const streamed: GeneratedToken[] = []
    let result: GenerateResult & { model: string }
    let lastSent = performance.now()
    const aliveMs = this.#options.aliveIntervalMs ?? 1_000
    const alive = setInterval(() => {
      if (performance.now() - lastSent < aliveMs) return
      lastSent = performance.now()
      try {
        writer.write({ type: 'alive' })
      } catch {
        // The stream is gone; the generation is being aborted.
      }
    }, aliveMs)
    try {
      result = await service.generate(request, {
        signal,
        onToken: (t) => {
          streamed.push(t)
          lastSent = performance.now()
          writer.write({ type: 'token', index: t.index, id: t.id, text: t.text, logprob: t.logprob })
        },
      })
    } catch (err) {
      clearInterval(alive)
      if (signal.aborted) return
      const e = err instanceof CommonsError ? err : new CommonsError('internal_error', 'the worker failed to run the job', { status: 500 })
      try {
        writer.write({ type: 'error', code: e.code.slice(0, 64), message: e.message.slice(0, 4096), status: e.status >= 400 && e.status <= 599 ? e.status : 500 })
        await writer.flush()
        await stream.close({ signal: AbortSignal.timeout(2_000) })
      } catch {
        stream.abort(e)
      }
      return
    }
    clearInterval(alive)
    if (signal.aborted || result.finishReason === 'abort') {
      stream.abort(new Error('job cancelled'))
      return
    }
    const served = service.listModels().find((m) => m.info.name === result.model || m.info.sha256 === request.model)
    const signed = signReceipt({
      jobId: frame.jobId,
      worker: bytesToHex(keyPair.publicKey),
      gateway,
      model: { name: result.model, sha256: served?.info.sha256 ?? '0'.repeat(64) },
      params: { ...request.params, stop: [...request.params.stop] },
      promptHash: promptHash(request.prompt),
      promptTokens: result.promptTokens,
      resumedTokens: request.resumeTokens?.length ?? 0,
      outputHash: outputHash(result.tokens),
      completionTokens: result.completionTokens,
      logprobs: streamed.map((t) => t.logprob),
      finishReason: result.finishReason,
      timings: result.timings,
      issuedAt: Date.now(),
    }, keyPair)
    try {
      writer.write({
        type: 'receipt',
        result: { model: result.model, text: result.text, promptTokens: result.promptTokens, completionTokens: result.completionTokens, finishReason: result.finishReason },
        signed,
      })
      await writer.flush()
      await stream.close({ signal: AbortSignal.timeout(5_000) })
    } catch {
      stream.abort(new Error('could not deliver the receipt'))
    }
  }
}

export interface RemoteJobOptions {
  readonly signal?: AbortSignal
  readonly onToken?: (token: GeneratedToken) => void
  /** A worker silent for this long mid-job is treated as dead (default 10 s). */
  readonly stallTimeoutMs?: number
  /** Time to open the stream (dial + protocol negotiation) (default 5 s). */
  readonly dialTimeoutMs?: number
  /** Pre-opened streams (see `StreamPool`); without one each job opens its own stream. */
  readonly pool?: StreamPool
}

export interface RemoteJobOutcome {
  readonly result: GenerateResult & { readonly model: string }
  /** The worker's verified receipt; absent when the job was aborted by the caller. */
  readonly signed?: SignedReceipt
  readonly receiptId?: string
}

/**
 * Runs one job on a remote worker (gateway side). Every frame is validated; token indexes must
 * be consecutive; the final receipt must verify against what was sent and streamed
 * (`checkReceipt`). Failures are typed: `WorkerLostError` (dial failed, stream died, stalled,
 * no receipt), `MalformedFrameError`, `InvalidReceiptError` (all mean "try another worker"), or
 * `RemoteJobError` (the worker refused the job, e.g. context too long: another would too).
 * Aborting `signal` resets the stream, which cancels the job on the worker.
 */
export async function runRemoteJob(
  host: CommonsHost,
  gatewayKey: KeyPair,
  metrics: P2pMetrics,
  worker: { readonly nodeId: string; readonly peerId: PeerId },
  jobId: string,
  request: InferenceRequest,
  options: RemoteJobOptions = {},
): Promise<RemoteJobOutcome> {
  const resumed = request.resumeTokens ?? []
  const wire = toWire(request)
  const aborted = (): RemoteJobOutcome => ({
    result: { model: request.model, text: '', tokens: [...resumed, ...tokens], promptTokens: 0, completionTokens: resumed.length + tokens.length, finishReason: 'abort', timings: { queuedMs: 0, timeToFirstTokenMs: 0, decodeMs: 0 } },
  })
  const tokens: number[] = []
  const logprobs: number[] = []
  if (options.signal?.aborted === true) return aborted()
  let stream: Stream
  try {
    const dialSignal = AbortSignal.timeout(options.dialTimeoutMs ?? 5_000)
    const signal = options.signal === undefined ? dialSignal : AbortSignal.any([options.signal, dialSignal])
    stream = options.pool === undefined
      ? await host.dialProtocol(worker.peerId, JOB_PROTOCOL, { signal, negotiateFully: false })
      : await options.pool.take(worker.peerId, signal)
  } catch (err) {
    if (isAborted(options.signal)) return aborted()
    throw new WorkerLostError(`could not open a job stream to worker ${worker.nodeId.slice(0, 12)}: ${(err as Error).message}`, err)
  }
  let stalled = false
  let cancelled = false
  const stallMs = options.stallTimeoutMs ?? 10_000
  let timer: NodeJS.Timeout | undefined
  let lastFrameAt = performance.now()
  // One timer for the whole job, pushed back lazily: frames only stamp lastFrameAt, so the token
  // hot path does no timer work.
  const check = (): void => {
    const idle = performance.now() - lastFrameAt
    if (idle >= stallMs) {
      stalled = true
      stream.abort(new WorkerLostError('worker stalled'))
      return
    }
    timer = setTimeout(check, stallMs - idle)
  }
  const arm = (): void => {
    lastFrameAt = performance.now()
    clearTimeout(timer)
    timer = setTimeout(check, stallMs)
  }
  const onAbort = (): void => {
    cancelled = true
    stream.abort(new Error('job cancelled by the gateway'))
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const writer = new FrameWriter(stream)
    writer.write({ type: 'request', jobId, request: wire })
    arm()
    options.pool?.refill(worker.peerId)
    const decoder = new FrameDecoder(MAX_FRAME_BYTES)
    for await (const chunk of stream) {
      decoder.push(chunk)
      for (let body = decoder.next(); body !== undefined; body = decoder.next()) {
        const frame = parseWorkerFrame(body)
        // `alive` only counts while no token has come (queue, prefill): once decoding, a worker
        // whose engine hangs but whose event loop still ticks must not hold the job forever.
        if (frame.type !== 'alive' || tokens.length === 0) lastFrameAt = performance.now()
        if (frame.type === 'token') {
          const expected = resumed.length + tokens.length
          if (frame.index !== expected) throw new MalformedFrameError(`token index ${frame.index}, expected ${expected}`)
          tokens.push(frame.id)
          logprobs.push(frame.logprob)
          options.onToken?.({ index: frame.index, id: frame.id, text: frame.text, logprob: frame.logprob })
          continue
        }
        if (frame.type === 'alive') continue
        if (frame.type === 'error') throw new RemoteJobError(frame.code, frame.message, frame.status)
        const all = [...resumed, ...tokens]
        const problem = checkReceipt(frame.signed, {
          jobId,
          worker: worker.nodeId,
          gateway: bytesToHex(gatewayKey.publicKey),
          params: wire.params,
          prompt: wire.prompt,
          tokens: all,
          resumedTokens: resumed.length,
          logprobs,
        })
        if (problem !== undefined) {
          metrics.receipts.inc({ outcome: 'invalid' })
          throw new InvalidReceiptError(`worker ${worker.nodeId.slice(0, 12)}: ${problem}`)
        }
        metrics.receipts.inc({ outcome: 'valid' })
        const r = frame.signed.receipt
        await stream.close({ signal: AbortSignal.timeout(1_000) }).catch(() => stream.abort(new Error('close timed out')))
        return {
          result: { model: frame.result.model, text: frame.result.text, tokens: all, promptTokens: r.promptTokens, completionTokens: r.completionTokens, finishReason: r.finishReason, timings: r.timings },
          signed: frame.signed,
          receiptId: receiptId(frame.signed),
        }
      }
    }
    if (decoder.pending > 0) throw new MalformedFrameError('stream ended inside a frame')
    if (cancelled) return aborted()
    throw new WorkerLostError(`worker ${worker.nodeId.slice(0, 12)} closed the stream without a receipt`)
  } catch (err) {
    if (cancelled) return aborted()
    if (err instanceof MalformedFrameError || err instanceof InvalidReceiptError) metrics.jobRejected.inc({ reason: err.code })
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    if (err instanceof CommonsError && !(stalled && !(err instanceof WorkerLostError))) throw err
    throw new WorkerLostError(stalled ? `worker ${worker.nodeId.slice(0, 12)} stalled for ${stallMs} ms` : `lost worker ${worker.nodeId.slice(0, 12)}: ${(err as Error).message}`, err)
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** A mutable copy of a request, shaped exactly as the wire schema (no extra fields leak onto the wire). */
function toWire(request: InferenceRequest): RequestFrame['request'] {
  const prompt: RequestFrame['request']['prompt'] = request.prompt.kind === 'completion'
    ? { kind: 'completion', prompt: request.prompt.prompt }
    : { kind: 'chat', messages: request.prompt.messages.map((m) => ({ role: m.role, content: m.content })) }
  const p = request.params
  const wire: RequestFrame['request'] = {
    model: request.model,
    prompt,
    params: { temperature: p.temperature, topP: p.topP, topK: p.topK, minP: p.minP, repeatPenalty: p.repeatPenalty, repeatLastN: p.repeatLastN, seed: p.seed, maxTokens: p.maxTokens, stop: [...p.stop] },
  }
  if (request.resumeTokens !== undefined && request.resumeTokens.length > 0) wire.resumeTokens = [...request.resumeTokens]
  return wire
}
