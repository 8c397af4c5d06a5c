import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type Database from 'better-sqlite3'
import type { KeyPair } from '../identity/index.js'
import { CapabilityGossip, type CapabilitySnapshot } from '../p2p/capabilities.js'
import type { CapabilityRecord } from '../p2p/capability-record.js'
import { createHost, type CommonsHost } from '../p2p/host.js'
import { JobWorker } from '../p2p/job-protocol.js'
import { ModelDiscovery } from '../p2p/model-discovery.js'
import { createP2pMetrics, type P2pMetrics } from '../p2p/p2p-metrics.js'
import { nodeIdOfPeer } from '../p2p/peer-id.js'
import type { PeerLimits } from '../p2p/rate-limit.js'
import type { EngineStats } from '../runtime/engine.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from '../runtime/service.js'
import type { GenerateOptions } from '../runtime/engine.js'
import { NoWorkerError } from './errors.js'
import { MeteredService } from './metered-service.js'
import { ReceiptStore, importLegacyReceipts } from './receipts.js'
import { SwarmInferenceService } from './swarm-service.js'

export interface SwarmNodeOptions {
  readonly keyPair: KeyPair
  readonly nodeId: string
  /** The node's Prometheus registry (`/metrics`). */
  readonly registry: Registry
  readonly logger?: Logger
  /** libp2p listen multiaddrs (see `listenAddrs`). */
  readonly listen: readonly string[]
  readonly bootstrap?: readonly string[]
  readonly mdns?: boolean
  /** This node's engines. Omitted (or `worker: false`) on a pure gateway: it then runs no jobs. */
  readonly local?: InferenceService
  /** Exact load of the local engine serving a model. */
  readonly localStats?: (model: string) => EngineStats | undefined
  /** Serve jobs for other gateways (default true when `local` is given). */
  readonly worker?: boolean
  /** The node's SQLite database (path or open handle) where verified receipts are kept; default in memory. */
  readonly receiptsDb?: string | Database.Database
  /** A separate `receipts.db` of an older data dir, imported into `receiptsDb` once at start. */
  readonly legacyReceiptsDb?: string
  readonly stallTimeoutMs?: number
  /** Governance filter passed to the scheduler: only models whose file sha256 passes are scheduled. */
  readonly servable?: (sha256: string) => boolean
  readonly capabilityIntervalMs?: number
  /**
   * Listen to capability gossip (default true). False: other workers are learned only through the
   * DHT (rendezvous and per-model provider records) and their records fetched directly.
   */
  readonly capabilityGossip?: boolean
  /** Time one DHT discovery may take while a job waits (default 1.5 s). */
  readonly discoveryTimeoutMs?: number
  readonly peerLimits?: PeerLimits
}

/** First and longest wait between DHT lookups of workers while the peer table stays empty. */
const WORKER_LOOKUP_MIN_MS = 1_000
const WORKER_LOOKUP_MAX_MS = 10_000

/** One worker as `/api/peers` and `commons peers` show it. */
export interface PeerReport {
  readonly nodeId: string
  readonly peerId: string
  readonly self: boolean
  readonly connected: boolean
  readonly addrs: readonly string[]
  readonly models: readonly { readonly name: string; readonly sha256: string; readonly contextSize: number }[]
  readonly freeSlots: number
  readonly parallel: number
  readonly queueDepth: number
  readonly tokensPerSecond: number
  readonly version: string
  /** Age of the capability record, ms. */
  readonly ageMs: number
  /** What this node, as a gateway, observed of the worker. */
  readonly observed: {
    /** Jobs this gateway is running there now. */
    readonly runningJobs: number
    readonly latencyMs: number
    readonly recentFailures: number
  }
}

export interface PeersReport {
  readonly nodeId: string
  readonly peerId: string
  readonly addrs: readonly string[]
  /** Every libp2p peer connected now (workers or not). */
  readonly connections: number
  readonly workers: readonly PeerReport[]
}

/**
 * The swarm part of a node, as one `Startable`: the libp2p host, capability gossip, the job
 * worker (when this node runs models) and the scheduler (`service`), which the API uses in place
 * of the local service. Start it after the engines are loaded and before the HTTP server.
 */
export class SwarmNode {
  readonly name = 'swarm'
  readonly #o: SwarmNodeOptions
  readonly #metered: MeteredService | undefined
  #host: CommonsHost | undefined
  #metrics: P2pMetrics | undefined
  #gossip: CapabilityGossip | undefined
  #worker: JobWorker | undefined
  #service: SwarmInferenceService | undefined
  #receipts: ReceiptStore | undefined
  #discovery: ModelDiscovery | undefined
  #lookupTimer: NodeJS.Timeout | undefined

  constructor(options: SwarmNodeOptions) {
    this.#o = options
    this.#metered = options.local === undefined ? undefined : new MeteredService(options.local)
  }

  /** The started libp2p host (for other protocols: `/commons/log/1`, witness gossip). */
  get host(): CommonsHost {
    if (this.#host === undefined) throw new Error('swarm not started')
    return this.#host
  }

  get receipts(): ReceiptStore | undefined {
    return this.#receipts
  }

  get gossip(): CapabilityGossip | undefined {
    return this.#gossip
  }

  /**
   * The swarm-wide inference service. Usable before `start` (the API may be built first): until
   * the swarm runs, jobs go to the local engines, or fail with 503 on a pure gateway.
   */
  readonly service: InferenceService = {
    listModels: (): readonly ServedModel[] => this.#service?.listModels() ?? this.#metered?.listModels() ?? [],
    generate: (request: InferenceRequest, options?: GenerateOptions): Promise<InferenceResult> => {
      if (this.#service !== undefined) return this.#service.generate(request, options)
      if (this.#metered !== undefined) return this.#metered.generate(request, options)
      return Promise.reject(new NoWorkerError(request.model, 'the swarm is not started'))
    },
  }

  async start(): Promise<void> {
    const o = this.#o
    const host = await createHost({
      keyPair: o.keyPair,
      listen: o.listen,
      ...(o.bootstrap === undefined ? {} : { bootstrap: o.bootstrap }),
      ...(o.mdns === undefined ? {} : { mdns: o.mdns }),
    })
    this.#host = host
    try {
      const gossipRef: { g?: CapabilityGossip } = {}
      this.#metrics = createP2pMetrics(o.registry, () => gossipRef.g?.peers().length ?? 0)
      const serving = this.#metered !== undefined && o.worker !== false
      this.#gossip = gossipRef.g = new CapabilityGossip({
        host,
        keyPair: o.keyPair,
        metrics: this.#metrics,
        ...(o.capabilityIntervalMs === undefined ? {} : { intervalMs: o.capabilityIntervalMs }),
        snapshot: () => (serving ? this.#snapshot() : undefined),
        ...(o.capabilityGossip === undefined ? {} : { subscribe: o.capabilityGossip }),
      })
      this.#discovery = new ModelDiscovery({
        host,
        metrics: this.#metrics,
        models: () => (serving ? this.#metered?.listModels().map((m) => ({ sha256: m.info.sha256, name: m.info.name })) ?? [] : []),
        ...(o.logger === undefined ? {} : { logger: o.logger }),
      })
      this.#receipts = new ReceiptStore(o.receiptsDb ?? ':memory:')
      if (o.legacyReceiptsDb !== undefined) importLegacyReceipts(this.#receipts, o.legacyReceiptsDb, o.logger)
      this.#service = new SwarmInferenceService({
        host,
        keyPair: o.keyPair,
        nodeId: o.nodeId,
        metrics: this.#metrics,
        gossip: this.#gossip,
        receipts: this.#receipts,
        ...(this.#metered === undefined ? {} : { local: this.#metered, localSpeed: () => this.#metered?.tokensPerSecond ?? 0 }),
        ...(o.localStats === undefined ? {} : { localStats: o.localStats }),
        ...(o.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: o.stallTimeoutMs }),
        ...(o.servable === undefined ? {} : { servable: o.servable }),
        ...(o.logger === undefined ? {} : { logger: o.logger }),
        discovery: this.#discovery,
        ...(o.discoveryTimeoutMs === undefined ? {} : { discoveryTimeoutMs: o.discoveryTimeoutMs }),
      })
      if (serving && this.#metered !== undefined) {
        this.#worker = new JobWorker({
          host, keyPair: o.keyPair, metrics: this.#metrics, service: this.#metered,
          ...(o.peerLimits === undefined ? {} : { limits: o.peerLimits }),
        })
        await this.#worker.start()
      }
      this.#gossip.start()
      this.#discovery.start()
      this.#scheduleWorkerLookup(WORKER_LOOKUP_MIN_MS)
      o.logger?.info({ peerId: host.peerId.toString(), addrs: host.getMultiaddrs().map(String), worker: serving }, 'swarm started')
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#lookupTimer)
    this.#discovery?.stop()
    this.#gossip?.stop()
    this.#service?.close()
    await this.#worker?.stop()
    await this.#host?.stop()
    this.#receipts?.close()
    this.#gossip = undefined
    this.#service = undefined
    this.#worker = undefined
    this.#host = undefined
    this.#receipts = undefined
    this.#discovery = undefined
  }

  /**
   * While the peer table is empty (just started, gossip not flowing yet, or gossip off), look up
   * the DHT's rendezvous key of all workers, backing off from 1 s to 10 s while it finds nobody,
   * so `/v1/models` lists what the swarm serves. A timer, never a busy loop.
   */
  #scheduleWorkerLookup(ms: number): void {
    this.#lookupTimer = setTimeout(() => void this.#lookupWorkers(ms), ms)
    this.#lookupTimer.unref()
  }

  async #lookupWorkers(lastDelayMs: number): Promise<void> {
    const service = this.#service
    const host = this.#host
    if (service === undefined || host === undefined) return
    let next = WORKER_LOOKUP_MIN_MS
    if ((this.#gossip?.peers().length ?? 0) === 0 && host.getConnections().length > 0) {
      const learned = await service.discover(undefined).catch(() => 0)
      if (learned === 0) next = Math.min(WORKER_LOOKUP_MAX_MS, lastDelayMs * 2)
    }
    if (this.#service === service) this.#scheduleWorkerLookup(next)
  }

  #snapshot(): CapabilitySnapshot | undefined {
    const models = this.#metered?.listModels() ?? []
    if (models.length === 0) return undefined
    let parallel = 0
    let active = 0
    let queue = 0
    for (const m of models) {
      const s = this.#o.localStats?.(m.info.name)
      parallel += s?.parallel ?? 1
      active += s?.activeSlots ?? 0
      queue += s?.queueDepth ?? 0
    }
    return {
      models: models.map((m) => ({ sha256: m.info.sha256, name: m.info.name, contextSize: m.info.contextSize })),
      parallel,
      freeSlots: Math.max(0, parallel - active),
      queueDepth: queue,
      tokensPerSecond: this.#metered?.tokensPerSecond ?? 0,
    }
  }

  #observed(nodeId: string): PeerReport['observed'] {
    const o = this.#service?.observation(nodeId)
    return { runningJobs: o?.runningJobs ?? 0, latencyMs: Math.round((o?.latencyMs ?? 0) * 100) / 100, recentFailures: Math.round((o?.recentFailures ?? 0) * 100) / 100 }
  }

  /** What `/api/peers` answers: this node and every worker with a fresh record. */
  peers(): PeersReport {
    const host = this.host
    const now = Date.now()
    const connected = new Set(host.getConnections().map((c) => c.remotePeer.toString()))
    const workers: PeerReport[] = []
    const own = this.#gossip?.currentRecord()
    if (own !== undefined) {
      workers.push({ ...reportOf(own), peerId: host.peerId.toString(), self: true, connected: true, ageMs: 0, observed: this.#observed(own.nodeId) })
    }
    for (const p of this.#gossip?.peers() ?? []) {
      workers.push({ ...reportOf(p.record), peerId: p.peerId.toString(), self: false, connected: connected.has(p.peerId.toString()), ageMs: Math.max(0, now - p.record.timestamp), observed: this.#observed(p.nodeId) })
    }
    return {
      nodeId: nodeIdOfPeer(host.peerId) ?? this.#o.nodeId,
      peerId: host.peerId.toString(),
      addrs: host.getMultiaddrs().map(String),
      connections: connected.size,
      workers,
    }
  }
}

function reportOf(r: CapabilityRecord): Omit<PeerReport, 'peerId' | 'self' | 'connected' | 'ageMs' | 'observed'> {
  return {
    nodeId: r.nodeId, addrs: r.addrs, models: r.models, freeSlots: r.freeSlots, parallel: r.parallel,
    queueDepth: r.queueDepth, tokensPerSecond: r.tokensPerSecond, version: r.version,
  }
}
