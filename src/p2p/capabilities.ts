import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { KeyPair } from '../identity/index.js'
import { bytesToHex } from '../identity/index.js'
import {
  SignedCapabilitySchema,
  signCapability,
  verifyCapability,
  type CapabilityModel,
  type CapabilityRecord,
} from './capability-record.js'
import { serveCapability, unserveCapability } from './capability-fetch.js'
import { CAPABILITY_TOPIC, SOFTWARE_VERSION } from './constants.js'
import type { CommonsHost } from './host.js'
import type { P2pMetrics } from './p2p-metrics.js'
import { nodeIdOfPeer, peerIdOf } from './peer-id.js'

/** What a worker advertises about itself right now (the gossip layer adds id, addresses, time, signature). */
export interface CapabilitySnapshot {
  readonly models: readonly CapabilityModel[]
  readonly freeSlots: number
  readonly parallel: number
  readonly queueDepth: number
  readonly tokensPerSecond: number
}

/** A remote worker as the peer table knows it: its last valid, fresh record. */
export interface PeerEntry {
  readonly nodeId: string
  readonly peerId: PeerId
  readonly record: CapabilityRecord
  /** Local clock when the record arrived. */
  readonly receivedAt: number
}

/** Why a capability record was dropped (the `reason` label of the drop counter). */
export type DropReason = 'malformed' | 'unsigned' | 'forged' | 'stale' | 'replayed'

export interface CapabilityGossipOptions {
  readonly host: CommonsHost
  readonly keyPair: KeyPair
  readonly metrics: P2pMetrics
  /** This node's current capabilities; `undefined` (or omitted) when it is not a worker. */
  readonly snapshot?: () => CapabilitySnapshot | undefined
  /** Publish period (default 2 s). */
  readonly intervalMs?: number
  /** Records older than this are stale and dropped, and expire from the table (default 15 s). */
  readonly maxAgeMs?: number
  /** Records dated further than this in the future are dropped as stale (default 10 s). */
  readonly maxSkewMs?: number
  /**
   * Listen to the capability topic (default true). False: this node still publishes its own record
   * and answers `/commons/capability/1`, but learns other workers only through the DHT (see
   * `ModelDiscovery`) and `acceptDirect`.
   */
  readonly subscribe?: boolean
  readonly now?: () => number
}

/** Largest capability message accepted; a real record is well under 4 KiB. */
const MAX_RECORD_BYTES = 16 * 1024

/**
 * Gossips this worker's signed capability record on `/commons/capabilities/1` every few seconds
 * and keeps the table of other workers' records. Records from peers are untrusted: each is
 * size-checked, zod-validated, signature-verified, checked to come from the key it names (the
 * gossipsub message author), and dropped when stale or older than one already held. Invalid
 * records are rejected in gossipsub's validator, so they are neither delivered nor forwarded and
 * the sender's peer score drops.
 */
export class CapabilityGossip {
  readonly #host: CommonsHost
  readonly #keyPair: KeyPair
  readonly #metrics: P2pMetrics
  readonly #snapshot: () => CapabilitySnapshot | undefined
  readonly #intervalMs: number
  readonly #maxAgeMs: number
  readonly #maxSkewMs: number
  readonly #now: () => number
  readonly #subscribe: boolean
  readonly #table = new Map<string, PeerEntry>()
  readonly #listeners = new Set<(entry: PeerEntry) => void>()
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined
  #running = false

  constructor(options: CapabilityGossipOptions) {
    this.#host = options.host
    this.#keyPair = options.keyPair
    this.#metrics = options.metrics
    this.#snapshot = options.snapshot ?? (() => undefined)
    this.#intervalMs = options.intervalMs ?? 2_000
    this.#maxAgeMs = options.maxAgeMs ?? 15_000
    this.#maxSkewMs = options.maxSkewMs ?? 10_000
    this.#now = options.now ?? Date.now
    this.#subscribe = options.subscribe ?? true
  }

  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    const nodeId = nodeIdOfPeer(event.detail)
    if (nodeId !== undefined) this.#table.delete(nodeId)
  }

  readonly #onSubscriptionChange = (): void => {
    // A peer just joined the topic: tell it about us now rather than at the next tick.
    this.publishSoon()
  }

  readonly #validate = (_from: PeerId, message: Message): TopicValidatorResult => {
    const outcome = this.accept(message)
    if (outcome === 'accepted') return TopicValidatorResult.Accept
    // Stale or replayed records can be honest (slow relay); only provably bad ones penalize the sender.
    return outcome === 'stale' || outcome === 'replayed' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    const pubsub = this.#host.services.pubsub
    if (this.#subscribe) {
      pubsub.topicValidators.set(CAPABILITY_TOPIC, this.#validate)
      pubsub.subscribe(CAPABILITY_TOPIC)
    }
    pubsub.addEventListener('subscription-change', this.#onSubscriptionChange)
    this.#host.addEventListener('peer:disconnect', this.#onDisconnect)
    void serveCapability(this.#host, () => this.signedRecordBytes()).catch(() => {})
    const tick = (): void => {
      void this.publish()
      this.#timer = setTimeout(tick, this.#intervalMs)
      this.#timer.unref()
    }
    tick()
  }

  stop(): void {
    if (!this.#running) return
    this.#running = false
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    const pubsub = this.#host.services.pubsub
    pubsub.removeEventListener('subscription-change', this.#onSubscriptionChange)
    this.#host.removeEventListener('peer:disconnect', this.#onDisconnect)
    void unserveCapability(this.#host)
    if (!this.#subscribe) return
    pubsub.topicValidators.delete(CAPABILITY_TOPIC)
    try {
      pubsub.unsubscribe(CAPABILITY_TOPIC)
    } catch {
      // The host may already be stopping; nothing left to unsubscribe from.
    }
  }

  /** Publishes within ~100 ms, coalescing bursts (new subscribers, load changes). */
  publishSoon(): void {
    if (!this.#running || this.#soon !== undefined) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      void this.publish()
    }, 100)
    this.#soon.unref()
  }

  /** Signs and publishes this node's record now; does nothing when the node is not a worker. */
  async publish(): Promise<void> {
    const bytes = this.signedRecordBytes()
    if (bytes === undefined) return
    try {
      await this.#host.services.pubsub.publish(CAPABILITY_TOPIC, bytes)
    } catch {
      // No subscribers yet or the host is stopping: the next tick tries again.
    }
  }

  /** This node's record, signed now, as the JSON bytes that are gossiped; `undefined` when it is not a worker. */
  signedRecordBytes(): Uint8Array | undefined {
    const record = this.currentRecord()
    return record === undefined ? undefined : new TextEncoder().encode(JSON.stringify(signCapability(record, this.#keyPair)))
  }

  /** This node's record as it would be published now, or `undefined` when it is not a worker. */
  currentRecord(): CapabilityRecord | undefined {
    const snap = this.#snapshot()
    if (snap === undefined) return undefined
    const peer = this.#host.peerId.toString()
    return {
      nodeId: bytesToHex(this.#keyPair.publicKey),
      addrs: this.#host.getMultiaddrs().slice(0, 16).map((m) => m.toString()).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${peer}`)),
      models: snap.models.map((m) => ({ sha256: m.sha256, name: m.name, contextSize: m.contextSize })),
      freeSlots: snap.freeSlots,
      parallel: snap.parallel,
      queueDepth: snap.queueDepth,
      tokensPerSecond: Math.round(snap.tokensPerSecond * 100) / 100,
      version: SOFTWARE_VERSION,
      timestamp: Math.floor(this.#now()),
    }
  }

  /**
   * Checks one gossiped message and, when valid, stores its record. Exposed for tests and for
   * other transports of the same record; returns `'accepted'` or the drop reason (also counted).
   */
  accept(message: Message): 'accepted' | DropReason {
    return this.#count(message.type === 'signed' ? this.#check(message.data, message.from) : 'unsigned')
  }

  /**
   * Checks a record that came straight from `from` (the authenticated peer of a
   * `/commons/capability/1` stream) exactly as a gossiped one, and stores it when valid.
   */
  acceptDirect(data: Uint8Array, from: PeerId): 'accepted' | DropReason {
    return this.#count(this.#check(data, from))
  }

  #count(outcome: 'accepted' | DropReason): 'accepted' | DropReason {
    if (outcome === 'accepted') this.#metrics.capabilityAccepted.inc()
    else this.#metrics.capabilityDropped.inc({ reason: outcome })
    return outcome
  }

  #check(data: Uint8Array, from: PeerId): 'accepted' | DropReason {
    if (data.byteLength > MAX_RECORD_BYTES) return 'malformed'
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
    } catch {
      return 'malformed'
    }
    const parsed = SignedCapabilitySchema.safeParse(json)
    if (!parsed.success) return 'malformed'
    const { record } = parsed.data
    // The author of the gossip message must be the key that signed the record: nobody publishes
    // (or re-signs) records in another worker's name.
    if (nodeIdOfPeer(from) !== record.nodeId) return 'forged'
    if (!verifyCapability(parsed.data)) return 'forged'
    const now = this.#now()
    if (record.timestamp < now - this.#maxAgeMs || record.timestamp > now + this.#maxSkewMs) return 'stale'
    const held = this.#table.get(record.nodeId)
    if (held !== undefined && held.record.timestamp >= record.timestamp) return 'replayed'
    const entry: PeerEntry = { nodeId: record.nodeId, peerId: peerIdOf(Buffer.from(record.nodeId, 'hex')), record, receivedAt: now }
    this.#table.set(record.nodeId, entry)
    this.#rememberAddrs(entry)
    for (const listener of this.#listeners) listener(entry)
    return 'accepted'
  }

  #rememberAddrs(entry: PeerEntry): void {
    const addrs: Multiaddr[] = []
    for (const a of entry.record.addrs) {
      try {
        addrs.push(multiaddr(a))
      } catch {
        // An unparsable address is useless, not fatal: the others may still work.
      }
    }
    if (addrs.length === 0) return
    this.#host.peerStore.merge(entry.peerId, { multiaddrs: addrs }).catch(() => {})
  }

  /** Workers with a fresh record, excluding this node. */
  peers(): PeerEntry[] {
    const cutoff = this.#now() - this.#maxAgeMs
    const out: PeerEntry[] = []
    for (const [id, entry] of this.#table) {
      if (entry.receivedAt < cutoff) this.#table.delete(id)
      else out.push(entry)
    }
    return out
  }

  /** The fresh entry of one worker, if any. */
  get(nodeId: string): PeerEntry | undefined {
    return this.peers().find((p) => p.nodeId === nodeId)
  }

  /** Forgets a worker until it publishes again (e.g. after its job stream died). */
  forget(nodeId: string): void {
    this.#table.delete(nodeId)
  }

  /** Calls `listener` with each accepted record; returns the unsubscribe function. */
  onRecord(listener: (entry: PeerEntry) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
