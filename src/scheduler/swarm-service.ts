import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { CommonsError } from '../errors.js'
import type { KeyPair } from '../identity/index.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CapabilityGossip, PeerEntry } from '../p2p/capabilities.js'
import { fetchCapability } from '../p2p/capability-fetch.js'
import type { ModelDiscovery } from '../p2p/model-discovery.js'
import { nodeIdOfPeer } from '../p2p/peer-id.js'
import { InvalidReceiptError, MalformedFrameError, RemoteJobError, WorkerLostError } from '../p2p/errors.js'
import type { CommonsHost } from '../p2p/host.js'
import { runRemoteJob } from '../p2p/job-protocol.js'
import { StreamPool } from '../p2p/stream-pool.js'
import { JOB_PROTOCOL } from '../p2p/constants.js'
import type { P2pMetrics } from '../p2p/p2p-metrics.js'
import type { EngineStats, GenerateOptions, GeneratedToken, ModelInfo } from '../runtime/engine.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from '../runtime/service.js'
import { JobFailedError, NoWorkerError } from './errors.js'
import { chooseWorker, type WorkerView } from './policy.js'
import type { ReceiptStore } from './receipts.js'
import { WorkerStats, type WorkerObservation } from './worker-stats.js'

export interface SwarmServiceOptions {
  readonly host: CommonsHost
  /** The gateway's key (receipts name it; the job protocol authenticates with it). */
  readonly keyPair: KeyPair
  readonly nodeId: string
  readonly metrics: P2pMetrics
  /** The peer table of gossiped capability records. */
  readonly gossip: CapabilityGossip
  /** This node's own engines; omitted on a gateway started with `--no-worker`. */
  readonly local?: InferenceService
  /** Exact load of a local engine by model name (no gossip delay). */
  readonly localStats?: (model: string) => EngineStats | undefined
  /** Local decode speed (tokens/s per slot), when measured. */
  readonly localSpeed?: () => number
  /** Where verified receipts are kept. */
  readonly receipts?: ReceiptStore
  /** A remote worker silent this long mid-job is failed over (default 5 s). */
  readonly stallTimeoutMs?: number
  /** Governance filter: only models whose file sha256 passes are listed and scheduled (default: all). */
  readonly servable?: (sha256: string) => boolean
  /** Workers tried per job before giving up (default 4). */
  readonly maxAttempts?: number
  /** DHT discovery, used when no fresh capability record names a worker for the model. */
  readonly discovery?: ModelDiscovery
  /** Time one DHT discovery may take before the job fails with 503 (default 1.5 s). */
  readonly discoveryTimeoutMs?: number
  readonly logger?: Logger
}

/** How long a model stays listed after the last worker serving it was seen (so a gap answers 503, not 404). */
const KNOWN_MODEL_TTL_MS = 10 * 60_000
/** Job length assumed for scheduling when the request does not say (its maxTokens caps it). */
const TYPICAL_JOB_TOKENS = 128
/** After the first worker found through the DHT answers, others get this long to answer too. */
const DISCOVERY_GRACE_MS = 50
/** Providers whose records are fetched at once during one discovery. */
const DISCOVERY_FANOUT = 8

interface Candidate extends WorkerView {
  readonly peer?: PeerEntry
}

/**
 * `InferenceService` over the whole swarm: each job goes to the best worker for its model — this
 * node's engine or a remote worker over `/commons/job/1` — chosen by `chooseWorker`. When a
 * remote worker dies, stalls or misbehaves mid-stream, the job resumes on the next best worker
 * with `resumeTokens` = the tokens already delivered; counter-based sampling makes the
 * continuation identical, so the caller's `onToken` sees one gap-free, duplicate-free stream.
 * No candidate at all → `NoWorkerError` (503) at once.
 */
export class SwarmInferenceService implements InferenceService {
  readonly #o: SwarmServiceOptions
  readonly #stats = new WorkerStats()
  readonly #known = new Map<string, { info: ModelInfo; seenAt: number }>()
  readonly #unsubscribe: () => void
  readonly #pool: StreamPool
  readonly #discovering = new Map<string, Promise<number>>()
  /** Aborted by `close`, so no discovery outlives the service. */
  readonly #closed = new AbortController()

  constructor(options: SwarmServiceOptions) {
    this.#o = options
    this.#pool = new StreamPool(options.host, JOB_PROTOCOL)
    this.#unsubscribe = options.gossip.onRecord((entry) => {
      this.#stats.recordSeen(entry.nodeId)
      for (const m of entry.record.models) {
        this.#known.set(m.sha256, {
          info: { name: m.name, sha256: m.sha256, path: '', sizeBytes: 0, contextSize: m.contextSize, vocabSize: 0, architecture: 'unknown', parameterCount: 0 },
          seenAt: Date.now(),
        })
      }
    })
  }

  /** Stops listening to the peer table. */
  close(): void {
    this.#unsubscribe()
    this.#closed.abort()
    this.#pool.close()
  }

  listModels(): readonly ServedModel[] {
    const local = this.#o.local?.listModels() ?? []
    const out: ServedModel[] = [...local]
    const seen = new Set(local.flatMap((m) => [m.info.sha256, m.info.name]))
    const cutoff = Date.now() - KNOWN_MODEL_TTL_MS
    for (const [sha, k] of this.#known) {
      if (k.seenAt < cutoff) {
        this.#known.delete(sha)
        continue
      }
      if (seen.has(sha) || seen.has(k.info.name) || this.#o.servable?.(sha) === false) continue
      seen.add(sha)
      seen.add(k.info.name)
      out.push({ info: k.info, local: false })
    }
    return out
  }

  /** What this gateway has observed of a worker (jobs it runs there now, latency, failures). */
  observation(nodeId: string): WorkerObservation {
    return this.#stats.observation(nodeId)
  }

  /** Workers that serve `model` now, with what this gateway knows of each. */
  candidates(model: string): Candidate[] {
    const out: Candidate[] = []
    const local = this.#o.local?.listModels().find((m) => (m.info.name === model || m.info.sha256 === model) && this.#o.servable?.(m.info.sha256) !== false)
    if (local !== undefined) {
      const s = this.#o.localStats?.(local.info.name)
      const obs = this.#stats.observation(this.#o.nodeId)
      out.push({
        nodeId: this.#o.nodeId,
        local: true,
        parallel: s?.parallel ?? 1,
        busySlots: s?.activeSlots ?? obs.runningJobs,
        queueDepth: s?.queueDepth ?? 0,
        unreportedJobs: 0,
        tokensPerSecond: this.#o.localSpeed?.() ?? 0,
        latencyMs: 0,
        recentFailures: obs.recentFailures,
      })
    }
    for (const peer of this.#o.gossip.peers()) {
      const r = peer.record
      if (peer.nodeId === this.#o.nodeId || !r.models.some((m) => (m.name === model || m.sha256 === model) && this.#o.servable?.(m.sha256) !== false)) continue
      const obs = this.#stats.observation(peer.nodeId)
      out.push({
        nodeId: peer.nodeId,
        local: false,
        peer,
        parallel: Math.max(1, r.parallel),
        busySlots: Math.max(0, r.parallel - r.freeSlots),
        queueDepth: r.queueDepth,
        unreportedJobs: obs.unreportedJobs,
        tokensPerSecond: obs.tokensPerSecond ?? r.tokensPerSecond,
        latencyMs: obs.latencyMs,
        recentFailures: obs.recentFailures,
      })
    }
    return out
  }

  async generate(request: InferenceRequest, options: GenerateOptions = {}): Promise<InferenceResult> {
    const jobId = randomUUID()
    const baseResume = request.resumeTokens ?? []
    const delivered: GeneratedToken[] = []
    const onToken = (t: GeneratedToken): void => {
      delivered.push(t)
      options.onToken?.(t)
    }
    const jobTokens = Math.min(request.params.maxTokens, TYPICAL_JOB_TOKENS)
    const tried = new Set<string>()
    const maxAttempts = this.#o.maxAttempts ?? 4
    let lastError: unknown
    let discovered = false
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (options.signal?.aborted === true) return this.#aborted(request, baseResume, delivered)
      let pick = chooseWorker(this.candidates(request.model).filter((c) => !tried.has(c.nodeId)), jobTokens)
      if (pick === undefined && !discovered && this.#o.discovery !== undefined) {
        // Gossip names no (other) worker for the model: ask the DHT, once per job, within a budget.
        discovered = true
        await this.discover(request.model, options.signal)
        pick = chooseWorker(this.candidates(request.model).filter((c) => !tried.has(c.nodeId)), jobTokens)
      }
      if (pick === undefined) break
      tried.add(pick.nodeId)
      const resumeTokens = [...baseResume, ...delivered.map((t) => t.id)]
      const attemptRequest: InferenceRequest = resumeTokens.length > 0 ? { ...request, resumeTokens } : request
      const textBefore = delivered.map((t) => t.text).join('')
      if (attempt > 0) this.#o.metrics.failovers.inc()
      const handle = this.#stats.dispatched(pick.nodeId)
      try {
        const result = pick.local || pick.peer === undefined
          ? await this.#runLocal(attemptRequest, options.signal, onToken)
          : await this.#runRemote(pick.peer, jobId, attemptRequest, options.signal, onToken)
        return { ...result, text: textBefore + result.text }
      } catch (err) {
        if (!isWorkerFailure(err)) throw err
        lastError = err
        this.#stats.failed(pick.nodeId)
        if (pick.peer !== undefined) this.#pool.forget(pick.peer.peerId)
        if (err instanceof WorkerLostError && pick.peer !== undefined) this.#o.gossip.forget(pick.nodeId)
        this.#o.logger?.warn({ worker: pick.nodeId, err: (err as Error).message, delivered: delivered.length, attempt }, 'worker failed; failing over')
      } finally {
        this.#stats.finished(pick.nodeId, handle)
      }
    }
    if (options.signal?.aborted === true) return this.#aborted(request, baseResume, delivered)
    if (tried.size === 0) throw new NoWorkerError(request.model)
    if (lastError instanceof CommonsError && lastError.status === 429) throw lastError
    throw new JobFailedError(request.model, tried.size, lastError)
  }

  /**
   * Finds workers through the DHT — providers of `model` (a sha256 or a name), or of the
   * rendezvous key of all workers when `model` is undefined — and fetches each one's signed
   * capability record into the peer table (`CapabilityGossip.acceptDirect` validates it). Bounded
   * by `discoveryTimeoutMs`; concurrent calls for the same key share one lookup. Returns how many
   * workers' records were taken.
   */
  discover(model: string | undefined, signal?: AbortSignal): Promise<number> {
    const discovery = this.#o.discovery
    if (discovery === undefined) return Promise.resolve(0)
    const key = model ?? ''
    const running = this.#discovering.get(key)
    if (running !== undefined) return running
    const done = this.#discover(discovery, model, signal).finally(() => this.#discovering.delete(key))
    this.#discovering.set(key, done)
    return done
  }

  async #discover(discovery: ModelDiscovery, model: string | undefined, signal: AbortSignal | undefined): Promise<number> {
    const stop = new AbortController()
    const budget = AbortSignal.timeout(this.#o.discoveryTimeoutMs ?? 1_500)
    const bounded = AbortSignal.any(signal === undefined ? [stop.signal, budget, this.#closed.signal] : [stop.signal, budget, this.#closed.signal, signal])
    let learned = 0
    let grace: NodeJS.Timeout | undefined
    const fetches: Promise<void>[] = []
    try {
      const providers = model === undefined ? discovery.workers(bounded) : discovery.providers(model, bounded)
      for await (const provider of providers) {
        if (fetches.length >= DISCOVERY_FANOUT) break
        fetches.push(this.#learn(provider.peerId, provider.multiaddrs, bounded).then((ok) => {
          if (!ok) return
          learned++
          grace ??= setTimeout(() => stop.abort(), DISCOVERY_GRACE_MS)
        }))
      }
      await Promise.all(fetches)
    } finally {
      clearTimeout(grace)
      stop.abort()
    }
    this.#o.logger?.debug({ model, learned }, 'DHT discovery done')
    return learned
  }

  /** Fetches one provider's capability record into the peer table; false when it could not. */
  async #learn(peerId: PeerId, multiaddrs: readonly Multiaddr[], signal: AbortSignal): Promise<boolean> {
    const nodeId = nodeIdOfPeer(peerId)
    if (nodeId === undefined || nodeId === this.#o.nodeId) return false
    if (this.#o.gossip.get(nodeId) !== undefined) return true
    try {
      if (multiaddrs.length > 0) await this.#o.host.peerStore.merge(peerId, { multiaddrs: [...multiaddrs] })
      const bytes = await fetchCapability(this.#o.host, peerId, signal)
      return this.#o.gossip.acceptDirect(bytes, peerId) === 'accepted'
    } catch (err) {
      this.#o.logger?.debug({ worker: nodeId, err: (err as Error).message }, 'could not fetch the capability record of a DHT provider')
      return false
    }
  }

  async #runLocal(request: InferenceRequest, signal: AbortSignal | undefined, onToken: (t: GeneratedToken) => void): Promise<InferenceResult> {
    const local = this.#o.local
    if (local === undefined) throw new NoWorkerError(request.model)
    return local.generate(request, signal === undefined ? { onToken } : { signal, onToken })
  }

  async #runRemote(peer: PeerEntry, jobId: string, request: InferenceRequest, signal: AbortSignal | undefined, onToken: (t: GeneratedToken) => void): Promise<InferenceResult> {
    const started = performance.now()
    let firstTokenMs: number | undefined
    const out = await runRemoteJob(this.#o.host, this.#o.keyPair, this.#o.metrics, peer, jobId, request, {
      ...(signal === undefined ? {} : { signal }),
      stallTimeoutMs: this.#o.stallTimeoutMs ?? 5_000,
      pool: this.#pool,
      onToken: (t) => {
        firstTokenMs ??= performance.now() - started
        onToken(t)
      },
    })
    if (out.signed !== undefined && out.receiptId !== undefined) {
      this.#o.receipts?.add(out.receiptId, out.signed)
      const r = out.signed.receipt
      if (firstTokenMs !== undefined) this.#stats.observeLatency(peer.nodeId, Math.max(0, firstTokenMs - r.timings.queuedMs - r.timings.timeToFirstTokenMs))
      const decoded = r.completionTokens - r.resumedTokens - 1
      if (decoded > 0 && r.timings.decodeMs > 0) this.#stats.observeSpeed(peer.nodeId, (decoded * 1000) / r.timings.decodeMs)
    }
    return out.receiptId === undefined
      ? { ...out.result, servedBy: peer.nodeId }
      : { ...out.result, servedBy: peer.nodeId, receiptId: out.receiptId }
  }

  #aborted(request: InferenceRequest, resume: readonly number[], delivered: readonly GeneratedToken[]): InferenceResult {
    const tokens = [...resume, ...delivered.map((t) => t.id)]
    return {
      model: request.model, servedBy: '', text: delivered.map((t) => t.text).join(''), tokens, promptTokens: 0,
      completionTokens: tokens.length, finishReason: 'abort', timings: { queuedMs: 0, timeToFirstTokenMs: 0, decodeMs: 0 },
    }
  }
}

/** Errors after which another worker may succeed: the worker died, stalled, lied, or is overloaded. */
/**
 * Refusals that say something about the worker, not the request: its own view of governance or
 * of what it has loaded differs from the record this gateway scheduled by (a lagging log, a model
 * unloaded since its last record). Another worker may well serve the job.
 */
const WORKER_VIEW_CODES: ReadonlySet<string> = new Set(['model_not_admitted', 'model_retired', 'model_not_found'])

function isWorkerFailure(err: unknown): boolean {
  if (err instanceof WorkerLostError || err instanceof MalformedFrameError || err instanceof InvalidReceiptError) return true
  if (err instanceof RemoteJobError) return err.status === 429 || err.status >= 500 || WORKER_VIEW_CODES.has(err.remoteCode)
  return err instanceof CommonsError && err.status === 429
}
