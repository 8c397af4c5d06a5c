import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { CommonsHost } from './host.js'
import { isModelHash, modelKey, modelNameKey, workersKey, type ModelCid } from './model-keys.js'
import type { P2pMetrics } from './p2p-metrics.js'

/**
 * Model and worker discovery over the Kademlia DHT (`/commons/kad/1.0.0`). A worker announces
 * (kad-dht provider records, RFC-less but per the libp2p Kademlia spec,
 * https://github.com/libp2p/specs/blob/master/kad-dht/README.md "Content provider advertisement")
 * three kinds of keys: each model's file hash, each model's name, and the rendezvous key of all
 * workers (`model-keys.ts`). A gateway looks keys up with `findProviders` when gossip has told it
 * nothing fresh: a new node not yet in the gossip mesh, a node that does not listen to the
 * capability topic, or a worker beyond the gossip's reach. Provider records say only "this peer
 * claims to serve it"; what the peer really serves comes from its signed capability record,
 * fetched next (`capability-fetch.ts`).
 */

/** A model a worker announces. */
export interface AnnouncedModel {
  readonly sha256: string
  readonly name: string
}

/** A peer the DHT names as a provider of a key. */
export interface Provider {
  readonly peerId: PeerId
  readonly multiaddrs: readonly Multiaddr[]
}

export interface ModelDiscoveryOptions {
  readonly host: CommonsHost
  readonly metrics: P2pMetrics
  /** The models to announce now (empty on a gateway that runs none). */
  readonly models: () => readonly AnnouncedModel[]
  readonly logger?: Logger
  /** Announcements older than this are repeated when a new peer joins (default 60 s). */
  readonly reannounceMs?: number
}

/** Time a provide query may take before it is abandoned (it is repeated later anyway). */
const PROVIDE_TIMEOUT_MS = 20_000
/** New peers arriving in a burst trigger one announcement, this long after the last of them. */
const ANNOUNCE_DEBOUNCE_MS = 300
/** First and longest wait before retrying an announcement that reached nobody. */
const RETRY_MIN_MS = 1_000
const RETRY_MAX_MS = 30_000

/** What one announcement reached. */
interface Announcement {
  readonly keys: string
  readonly at: number
  /** Remote peers that took the provider records (0: nobody heard it yet). */
  readonly reached: number
}

/**
 * The DHT side of discovery, as a `Startable`. Workers announce their keys at start and again
 * whenever a peer is identified while the last announcement reached nobody, is older than
 * `reannounceMs`, or the served models changed; one that reached nobody (no peer yet, or the
 * routing table still empty) is retried on a timer with backoff, and a good one is refreshed
 * every `reannounceMs` (kad-dht itself also republishes provided keys before they expire).
 */
export class ModelDiscovery {
  readonly #o: ModelDiscoveryOptions
  readonly #reannounceMs: number
  #last: Announcement | undefined
  #announcing = false
  #retryMs = RETRY_MIN_MS
  #timer: NodeJS.Timeout | undefined
  #controller = new AbortController()
  #running = false

  constructor(options: ModelDiscoveryOptions) {
    this.#o = options
    this.#reannounceMs = options.reannounceMs ?? 60_000
  }

  readonly #onIdentify = (): void => {
    this.announceSoon()
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#controller = new AbortController()
    this.#o.host.addEventListener('peer:identify', this.#onIdentify)
    this.announceSoon(0)
  }

  stop(): void {
    if (!this.#running) return
    this.#running = false
    this.#controller.abort()
    clearTimeout(this.#timer)
    this.#o.host.removeEventListener('peer:identify', this.#onIdentify)
  }

  /** Schedules an announcement (coalescing bursts); a no-op when the last one is still good. */
  announceSoon(delayMs = ANNOUNCE_DEBOUNCE_MS): void {
    if (!this.#running) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#announce(), delayMs)
    this.#timer.unref()
  }

  /** The keys this node announces now, by their string form. */
  #keys(): Map<string, ModelCid> {
    const keys = new Map<string, ModelCid>()
    const models = this.#o.models()
    if (models.length === 0) return keys
    for (const key of [workersKey(), ...models.flatMap((m) => [modelKey(m.sha256), modelNameKey(m.name)])]) keys.set(key.toString(), key)
    return keys
  }

  async #announce(): Promise<void> {
    if (!this.#running || this.#announcing) return
    const keys = this.#keys()
    if (keys.size === 0) {
      // Nothing served yet: look again later (models may be loaded or admitted meanwhile).
      this.announceSoon(this.#reannounceMs)
      return
    }
    const id = [...keys.keys()].sort().join(',')
    const last = this.#last
    if (last !== undefined && last.keys === id && last.reached > 0 && Date.now() - last.at < this.#reannounceMs) {
      // Still good: keep the refresh timer (a new peer's `announceSoon` replaced it).
      this.announceSoon(this.#reannounceMs - (Date.now() - last.at))
      return
    }
    if (this.#o.host.getConnections().length === 0) {
      this.#retryLater()
      return
    }
    this.#announcing = true
    const dht = this.#o.host.services.dht
    const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(PROVIDE_TIMEOUT_MS)])
    // The fewest peers any one key reached: one key that reached nobody makes a retry.
    let reached = Infinity
    try {
      await Promise.all([...keys.values()].map(async (key) => {
        let peers = 0
        try {
          for await (const event of dht.provide(key, { signal })) {
            if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') peers++
          }
        } catch (err) {
          this.#o.logger?.debug({ key: key.toString(), err: (err as Error).message }, 'DHT announcement failed')
        }
        this.#o.metrics.dhtAnnouncements.inc({ outcome: peers > 0 ? 'reached' : 'unreached' })
        reached = Math.min(reached, peers)
      }))
      this.#last = { keys: id, at: Date.now(), reached }
      this.#o.logger?.debug({ keys: keys.size, reached }, 'models announced on the DHT')
    } finally {
      this.#announcing = false
    }
    if (reached === 0) {
      this.#retryLater()
    } else {
      this.#retryMs = RETRY_MIN_MS
      this.announceSoon(this.#reannounceMs)
    }
  }

  #retryLater(): void {
    this.announceSoon(this.#retryMs)
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2)
  }

  /**
   * Providers of `model` (a file sha256 or a name) from the DHT, as they arrive, this node
   * excluded. Ends when the query does or `signal` aborts (then quietly: the caller set the budget).
   */
  providers(model: string, signal: AbortSignal): AsyncGenerator<Provider, void, undefined> {
    return this.#providers(isModelHash(model) ? modelKey(model) : modelNameKey(model), 'model', signal)
  }

  /** Providers of the rendezvous key of all workers (see `providers`). */
  workers(signal: AbortSignal): AsyncGenerator<Provider, void, undefined> {
    return this.#providers(workersKey(), 'workers', signal)
  }

  async *#providers(key: ModelCid, kind: 'model' | 'workers', signal: AbortSignal): AsyncGenerator<Provider, void, undefined> {
    const self = this.#o.host.peerId
    const seen = new Set<string>()
    let outcome: 'found' | 'none' | 'error' = 'none'
    try {
      for await (const event of this.#o.host.services.dht.findProviders(key, { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const p of event.providers) {
          const id = p.id.toString()
          if (p.id.equals(self) || seen.has(id)) continue
          seen.add(id)
          outcome = 'found'
          yield { peerId: p.id, multiaddrs: p.multiaddrs }
        }
      }
    } catch (err) {
      if (!signal.aborted) {
        outcome = seen.size > 0 ? 'found' : 'error'
        this.#o.logger?.debug({ key: key.toString(), err: (err as Error).message }, 'DHT lookup failed')
      }
    } finally {
      this.#o.metrics.dhtLookups.inc({ key: kind, outcome })
    }
  }
}
