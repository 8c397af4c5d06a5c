import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Message } from '@libp2p/gossipsub'
import { z } from 'zod'
import { bytesToHex, hexToBytes, type KeyPair } from '../../identity/index.js'
import {
  cosign,
  formatCheckpoint,
  formatSignedNote,
  noteKeyId,
  verifyCosignatures,
  witnessKeyName,
  COSIGNATURE_V1_TYPE,
  type Checkpoint,
  type NoteSignature,
} from '../checkpoint.js'
import { bindsFromHeight, convictedBy } from '../convictions.js'
import { ReplayedSeqError } from '../errors.js'
import { decodeEntry, encodeEntry, signEntry, type DecodedEntry } from '../entry.js'
import { leafHash } from '../merkle.js'
import { TreeAppender } from '../tree.js'
import type { LogStore, StoredCheckpoint } from '../log-store.js'
import { batchId, type EpochBatch, type BatchTree } from './batch.js'
import type { EpochSet, EpochSetHeader } from './epoch-set.js'
import type { ForkProof } from './fork-proof.js'
import { CONSENSUS_DOMAIN, type ConsensusMessage } from './messages.js'
import type { TimeoutSchedule } from './tendermint.js'
import { WitnessCore, WitnessGossipSchema, type WitnessAction, type WitnessGossip, type WitnessSnapshot, type WitnessTimer } from './witness-core.js'

/**
 * The runtime of a witness: `WitnessService.start()/stop()`. It is the edge around the pure
 * `WitnessCore`: the wall clock (epoch boundaries from the genesis), libp2p gossipsub (entries on
 * `ENTRY_TOPIC`, consensus messages, epoch sets and fork proofs on `WITNESS_TOPIC`), direct entry
 * submissions (`submit`), timers, crash-safe persistence of what it signed, and, on each decision,
 * appending the batch to the log store with its C2SP checkpoint and the k cosignatures carried by
 * the deciding precommits.
 *
 * Everything from the network is untrusted: entries go through `decodeEntry`, gossip through
 * `WitnessGossipSchema` and the core's signature checks.
 */

/** Gossipsub topic of new (not yet final) log entries: raw canonical entry bytes. */
export const ENTRY_TOPIC = '/commons/log/entries/1'
/** Gossipsub topic of consensus messages, epoch sets and fork proofs (JSON `WitnessGossip`). */
export const WITNESS_TOPIC = '/commons/log/witness/1'

const STATE_FILE = 'consensus-state.json'
/** How many recent decision certificates a witness keeps to let a lagging witness catch up. */
const MAX_CATCH_UP_HEIGHTS = 256
/** Re-gossip ticks behind without deciding a height before the log is synced from peers instead. */
const RESYNC_AFTER_TICKS = 8
/** Longest a catch-up sync may hold deliveries (at least this, or 20 epochs). */
const RESYNC_TIMEOUT_MS = 60_000
/** Pending entries re-published per re-gossip tick (oldest first). */
const MAX_REPUBLISHED_ENTRIES = 64
/** Twins held (bytes kept, never signed) per (author, seq) besides the pending one. */
const MAX_HELD_TWINS = 2

/** An entry's (author, seq) against the log and the pending pool (`WitnessService.standingOf`). */
type SeqStanding = { readonly kind: 'final' } | { readonly kind: 'free' } | { readonly kind: 'twin'; readonly twin: string }

/**
 * "I am still at `height`": sent on `WITNESS_TOPIC` by a node that sees it is behind (a follower
 * that synced the log while the witnesses decided further heights, or a witness back from a
 * crash). Witnesses past that height answer with their decision certificates (`serveLagging`):
 * a non-witness never sends consensus messages, so nothing else would tell them it lags.
 */
const CatchUpRequestSchema = z.strictObject({ kind: z.literal('catch-up'), height: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })

function batchIdShort(batch: EpochBatch): string {
  return batchId(batch).slice(0, 4)
}

function heightOf(gossip: WitnessGossip): number | null {
  if (gossip.kind === 'consensus') return gossip.message.height
  if (gossip.kind === 'epoch-set') return gossip.set.epoch
  return null
}

/** The narrow part of a libp2p host the service needs (gossipsub). */
export interface WitnessPubSub {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  addEventListener(type: 'message', listener: (event: CustomEvent<Message>) => void): void
  removeEventListener(type: 'message', listener: (event: CustomEvent<Message>) => void): void
}

/** What the service reports (for logs, tests and the node's status). */
export type WitnessEvent =
  | { readonly kind: 'height-started'; readonly height: number }
  | { readonly kind: 'decided'; readonly height: number; readonly round: number; readonly entries: readonly string[]; readonly size: number; readonly root: string; readonly final: boolean; readonly cosigners: number }
  | { readonly kind: 'fork-proof'; readonly witness: string; readonly proofType: ForkProof['type'] }
  | { readonly kind: 'entry'; readonly hash: string }
  | { readonly kind: 'resynced'; readonly from: number; readonly to: number }
  | { readonly kind: 'error'; readonly message: string }

export interface WitnessServiceOptions {
  readonly store: LogStore
  readonly keys: KeyPair
  readonly pubsub: WitnessPubSub
  /** Where the signed-state snapshot lives (the node's data dir). */
  readonly dataDir: string
  /** Consensus timeouts; default derived from the epoch length. */
  readonly timeouts?: TimeoutSchedule
  /** Wall clock in ms (the only clock in the consensus code). */
  readonly now?: () => number
  readonly onEvent?: (event: WitnessEvent) => void
  /**
   * Brings the store up to the peers' log over `/commons/log/1` (the node runs `syncFrom` on its
   * connections). Used when this node has fallen further behind than the witnesses keep decision
   * certificates (e.g. after a long partition): nothing else would ever bring those heights back.
   * Deliveries wait while it runs, so nothing else appends meanwhile (the core keeps voting on the
   * log it sees, and is restarted from the synced log afterwards); it must give up when
   * `signal` aborts (a peer that stops answering must not hold the witness for good).
   */
  readonly syncLog?: (signal: AbortSignal) => Promise<void>
  /** How many recent decision certificates to keep for lagging witnesses (default 256). */
  readonly certificateWindow?: number
  /**
   * TEST-ONLY seam for Byzantine behaviour in multi-process tests (equivocation, censorship): every
   * outgoing gossip message is replaced by what this returns. Never set in a real node.
   */
  readonly testOnlyRewriteOutgoing?: (message: WitnessGossip, context: RewriteContext) => WitnessGossip[]
}

/** What a test-only rewrite of outgoing gossip may consult: the local tree and the sets held. */
export interface RewriteContext {
  readonly treeAfter: (entries: readonly string[]) => BatchTree
  readonly setFor: (header: EpochSetHeader) => EpochSet | undefined
}

/** Default consensus timeouts for an epoch of `epochMs`: short against the epoch, growing per round. */
export function defaultTimeouts(epochMs: number): TimeoutSchedule {
  const base = Math.max(200, epochMs)
  return { propose: base, prevote: Math.floor(base / 2), precommit: Math.floor(base / 2), delta: Math.floor(base / 2) }
}

/** Cosignature timestamp of the checkpoint closing `epoch`: its end on the genesis clock, in seconds (deterministic, so every witness signs the same statement). */
export function epochEndSeconds(createdMs: number, epochMs: number, epoch: number): number {
  return Math.floor((createdMs + (epoch + 1) * epochMs) / 1000)
}

export class WitnessService {
  readonly nodeId: string
  private readonly store: LogStore
  private readonly witnesses: readonly string[]
  private readonly quorum: number
  private core: WitnessCore | null = null
  private readonly known = new Map<string, DecodedEntry>()
  /** `author:seq` → hashes of its held (not pending) twins. */
  private readonly heldTwins = new Map<string, Set<string>>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly decodedLeaves = new Map<string, Uint8Array>()
  /** Decided batches not yet appended (waiting for entry bytes), oldest first. */
  private readonly undelivered: { height: number; round: number; batch: EpochBatch; cosignatures: NoteSignature[] }[] = []
  /** Decision certificates (proposal + k precommits) of recent heights, served to lagging witnesses. */
  private readonly certificates = new Map<number, WitnessGossip[]>()
  /** Consensus gossip for heights beyond the core's window, replayed as the core catches up. */
  private readonly ahead = new Map<number, WitnessGossip[]>()
  private readonly served = new Map<number, number>()
  private running = false
  private syncing = false
  private behindAt = -1
  private behindTicks = 0
  private regossipTimer: NodeJS.Timeout | undefined
  private epochTimer: NodeJS.Timeout | undefined
  private readonly now: () => number

  constructor(private readonly options: WitnessServiceOptions) {
    this.store = options.store
    this.witnesses = options.store.genesis.witnesses
    this.quorum = options.store.genesis.threshold
    this.nodeId = bytesToHex(options.keys.publicKey)
    this.now = options.now ?? Date.now
  }

  /** The height (epoch) being decided. */
  get height(): number {
    return this.core?.height ?? 0
  }

  /** Witnesses convicted in the log, whose signatures no longer count. */
  get faulty(): readonly string[] {
    return this.core?.faultyWitnesses ?? []
  }

  /** Witnesses this node holds a fork proof against (convicted once its fork-proof entry is final). */
  get accused(): readonly string[] {
    return this.core?.accusedWitnesses ?? []
  }

  /** A summary of the consensus state, for status output and debugging. */
  status(): { height: number; round: number; step: string; pending: number; undelivered: number; faulty: readonly string[]; accused: readonly string[]; votes: Record<string, string> } {
    const state = this.core?.state
    const votes: Record<string, string> = {}
    for (const [r, log] of Object.entries(state?.rounds ?? {})) {
      const ids = (votes: Record<string, { valueId: string | null }>) => Object.values(votes).map((v) => (v.valueId ?? 'nil').slice(0, 4)).join(',')
      votes[r] = `P${log.proposal === null ? '-' : batchIdShort(log.proposal.value)} pv[${ids(log.prevotes)}] pc[${ids(log.precommits)}]`
    }
    return {
      height: state?.height ?? 0,
      round: state?.round ?? 0,
      step: state?.step ?? 'new-height',
      pending: this.core?.pendingEntries.length ?? 0,
      undelivered: this.undelivered.length,
      faulty: this.faulty,
      accused: this.accused,
      votes,
    }
  }

  start(): void {
    if (this.running) return
    this.running = true
    const genesis = this.store.genesis
    const height = this.nextHeight()
    const snapshot = this.loadSnapshot()
    this.core = new WitnessCore(
      {
        network: this.store.network,
        witnesses: this.witnesses,
        quorum: this.quorum,
        keys: this.options.keys,
        timeouts: this.options.timeouts ?? defaultTimeouts(genesis.epochMs),
        collectGraceMs: Math.max(50, Math.floor(genesis.epochMs / 10)),
        log: {
          treeAfter: (entries) => this.treeAfter(entries),
          hasEntry: (h) => this.known.has(h),
          // One entry per (author, seq) in a set, whatever path filled the pool (the store's row decides).
          signable: (hashes) => this.signable(hashes),
          convictedBefore: (h) => [...this.store.convictions()].filter(([, c]) => bindsFromHeight(c, h, this.store.size())).map(([w]) => w),
        },
        cosign: (batch) => this.cosignBatch(batch),
        verifyCosignature: (batch, witness, ext) => this.verifyBatchCosignature(batch, witness, ext),
      },
      height,
      snapshot ?? undefined,
    )
    // A restart mid-round: the timers of that round died with the old process.
    this.perform(this.core.resume())
    const rows = new Set<string>()
    const undecodable: string[] = []
    for (const stored of this.store.pending()) {
      try {
        this.holdEntry(decodeEntry(stored.bytes, this.store.network))
        rows.add(stored.hash)
      } catch {
        undecodable.push(stored.hash) // it was never final: dropped, or it would block its seq
      }
    }
    this.store.removePending(undecodable)
    // Entries that became final while this core was not running (a log sync) are not pending, nor
    // are hashes of the snapshot whose rows are gone (final, or a twin that lost, before a crash or
    // during a resync): the store's rows are the pool.
    this.dropSettled()
    this.core.removePending(this.core.pendingEntries.filter((h) => !rows.has(h)))
    for (const proof of this.store.forkProofs()) {
      this.perform(this.core.receive({ kind: 'fork-proof', proof }))
      // A crash between finding a proof and submitting its entry: submit it now.
      this.publishConviction(proof)
    }
    const pubsub = this.options.pubsub
    pubsub.addEventListener('message', this.onMessage)
    pubsub.subscribe(ENTRY_TOPIC)
    pubsub.subscribe(WITNESS_TOPIC)
    this.scheduleEpoch()
    const every = Math.max(250, Math.floor(genesis.epochMs / 2))
    const tick = (): void => {
      if (!this.running || this.core === null) return
      this.perform(this.core.regossip())
      // Entries that are not final yet are re-announced too: a publish before the peers'
      // subscriptions were known reached nobody, and a witness that was down needs them.
      let budget = MAX_REPUBLISHED_ENTRIES
      for (const [h, d] of this.known) {
        if (budget <= 0) break
        // Held twins are not re-announced: spreading entries that lost is what their author wants.
        if (!this.isPending(d)) continue
        budget--
        this.republishEntry(h)
      }
      if (this.isBehind()) {
        this.requestCatchUp()
        // Certificates stopped coming (the witnesses no longer keep those heights, or answer
        // nothing): catch up by log sync instead. A height decided meanwhile resets the count.
        if (this.core.height !== this.behindAt) {
          this.behindAt = this.core.height
          this.behindTicks = 0
        } else if (++this.behindTicks >= RESYNC_AFTER_TICKS) {
          this.behindTicks = 0
          void this.resync()
        }
      } else {
        this.behindTicks = 0
      }
      this.regossipTimer = setTimeout(tick, every)
    }
    this.regossipTimer = setTimeout(tick, every)
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    clearTimeout(this.regossipTimer)
    clearTimeout(this.epochTimer)
    const pubsub = this.options.pubsub
    pubsub.removeEventListener('message', this.onMessage)
    try {
      pubsub.unsubscribe(ENTRY_TOPIC)
      pubsub.unsubscribe(WITNESS_TOPIC)
    } catch {
      // The host may already be stopping.
    }
  }

  /**
   * Direct submission of an entry (canonical bytes) to this witness: validated, kept as pending,
   * and gossiped to the other witnesses. Returns its hash.
   * @throws the ledger's entry errors (forged, oversized, wrong network, bad schema) or ReplayedSeqError
   */
  submit(bytes: Uint8Array): string {
    const decoded = decodeEntry(bytes, this.store.network)
    if (this.store.indexOf(decoded.hash) !== undefined) return decoded.hash
    // A seq already final, or a twin of an entry pending here with a lower hash (it would never be signed): refused.
    const standing = this.standingOf(decoded)
    if (standing.kind === 'final' || (standing.kind === 'twin' && standing.twin < decoded.hash)) throw new ReplayedSeqError(decoded.entry.author, decoded.entry.seq)
    this.admit(decoded, standing)
    void this.publish(ENTRY_TOPIC, decoded.bytes)
    if (this.undelivered.length > 0) this.tryDeliver()
    return decoded.hash
  }

  /**
   * Takes in a valid entry: pending (signed into the next sets), or, for the twin of a pending
   * entry (same author and seq) with a higher hash, only held: its bytes are kept, since the
   * witnesses may still decide it (if it reached k sets before its twin was seen), but it is
   * never signed. A lower-hash twin takes the pending one's place, so every correct witness
   * converges on the same twin and at most one can reach k (`LogStore.addPending`).
   */
  private admit(decoded: DecodedEntry, standing: SeqStanding = this.standingOf(decoded)): 'pending' | 'held' | 'refused' {
    if (standing.kind === 'final') return 'refused'
    if (standing.kind === 'free') {
      this.store.addPending(decoded)
      this.holdEntry(decoded)
      return 'pending'
    }
    const { twin } = standing
    const key = `${decoded.entry.author}:${decoded.entry.seq}`
    const held = this.heldTwins.get(key) ?? new Set<string>()
    if (twin < decoded.hash) {
      // A few held twins per seq are all a decided batch can need; an author signing ever more
      // twins must not grow what is kept.
      if (held.size >= MAX_HELD_TWINS) return 'refused'
      held.add(decoded.hash)
      this.heldTwins.set(key, held)
      this.holdEntry(decoded, false)
      return 'held'
    }
    this.store.replacePending(twin, decoded)
    this.core?.removePending([twin])
    this.holdEntry(decoded)
    // The twin it displaced stays held (it may already be in sets that reach k), within the bound.
    if (held.size < MAX_HELD_TWINS) {
      held.add(twin)
      this.heldTwins.set(key, held)
    } else {
      this.known.delete(twin)
      this.decodedLeaves.delete(twin)
    }
    return 'pending'
  }

  /** Where an entry's (author, seq) stands: final in the log, free, or taken by a pending twin. */
  private standingOf(decoded: DecodedEntry): SeqStanding {
    const { author, seq } = decoded.entry
    if (this.store.hasSeq(author, seq)) return { kind: 'final' }
    const twin = this.store.pendingTwin(author, seq)
    return twin === undefined || twin === decoded.hash ? { kind: 'free' } : { kind: 'twin', twin }
  }

  private *signable(hashes: Iterable<string>): Iterable<string> {
    for (const h of hashes) {
      const d = this.known.get(h)
      if (d !== undefined && this.isPending(d)) yield h
    }
  }

  /** Whether a held entry is the one pending for its (author, seq): signed into sets, re-announced. */
  private isPending(d: DecodedEntry): boolean {
    return this.store.pendingTwin(d.entry.author, d.entry.seq) === d.hash
  }

  // ---- gossip in ----

  private readonly onMessage = (event: CustomEvent<Message>): void => {
    if (!this.running) return
    const message = event.detail
    try {
      if (message.topic === ENTRY_TOPIC) this.receiveEntry(message.data)
      else if (message.topic === WITNESS_TOPIC) this.receiveGossip(message.data)
    } catch (err) {
      this.emit({ kind: 'error', message: (err as Error).message })
    }
  }

  private receiveEntry(bytes: Uint8Array): void {
    let decoded: DecodedEntry
    try {
      decoded = decodeEntry(bytes, this.store.network)
    } catch {
      return
    }
    if (this.known.has(decoded.hash)) return
    if (this.store.indexOf(decoded.hash) !== undefined) return
    // A seq already final: this entry can never be.
    if (this.admit(decoded) === 'refused') return
    if (this.undelivered.length > 0) this.tryDeliver()
  }

  private receiveGossip(data: Uint8Array): void {
    let value: unknown
    try {
      value = JSON.parse(new TextDecoder().decode(data))
    } catch {
      return
    }
    const request = CatchUpRequestSchema.safeParse(value)
    if (request.success) {
      if (this.core !== null && request.data.height < this.core.height) this.serveLagging(request.data.height)
      return
    }
    const parsed = WitnessGossipSchema.safeParse(value)
    if (!parsed.success || this.core === null) return
    const gossip = parsed.data
    const height = heightOf(gossip)
    if (height !== null && height < this.core.height) {
      this.serveLagging(height)
      return
    }
    if (height !== null && height > this.core.height + 1) {
      this.keepAhead(height, gossip)
      return
    }
    this.perform(this.core.receive(gossip))
  }

  /**
   * A witness still at an older height (it was down, or started late) cannot decide heights whose
   * messages it missed: send it the decision certificates and the entries of those heights, at
   * most once a second per height. Heights older than the kept certificates need log sync.
   */
  private serveLagging(from: number): void {
    const now = this.now()
    for (let h = from; h < from + this.window; h++) {
      const cert = this.certificates.get(h)
      if (cert === undefined) break
      if ((this.served.get(h) ?? 0) > now - 1000) continue
      this.served.set(h, now)
      const proposal = cert[0]
      if (proposal?.kind === 'consensus' && proposal.message.type === 'proposal') {
        for (const hash of proposal.message.value.entries) {
          const index = this.store.indexOf(hash)
          const stored = index === undefined ? undefined : this.store.entry(index)
          if (stored !== undefined) void this.publish(ENTRY_TOPIC, stored.bytes)
        }
      }
      for (const m of cert) {
        // A test-only Byzantine witness's own messages went out rewritten, while its certificates
        // hold the originals: serving those would be a second statement it never made public.
        if (this.options.testOnlyRewriteOutgoing !== undefined && m.kind === 'consensus' && m.message.sender === this.nodeId) continue
        void this.publish(WITNESS_TOPIC, new TextEncoder().encode(JSON.stringify(m)))
      }
    }
  }

  /**
   * Behind: messages of heights past the next one are waiting (the witnesses moved on without us),
   * or our height's epoch ended several epochs ago without a decision reaching us.
   */
  private isBehind(): boolean {
    if (this.core === null) return false
    if (this.ahead.size > 0) return true
    return this.now() > this.epochEndMs(this.core.height) + 3 * this.store.genesis.epochMs
  }

  private get window(): number {
    return this.options.certificateWindow ?? MAX_CATCH_UP_HEIGHTS
  }

  /**
   * Syncs the log from peers (`syncLog`) with deliveries held back; if that moved the log past
   * the height being decided, restarts the core there, as after a process restart (its snapshot
   * still guards what it signed).
   */
  private async resync(): Promise<void> {
    if (this.syncing || this.options.syncLog === undefined) return
    this.syncing = true
    const from = this.nextHeight()
    try {
      await this.options.syncLog(AbortSignal.timeout(Math.max(RESYNC_TIMEOUT_MS, 20 * this.store.genesis.epochMs)))
    } catch (err) {
      this.emit({ kind: 'error', message: `log sync failed: ${(err as Error).message}` })
    } finally {
      this.syncing = false
    }
    const to = this.nextHeight()
    if (!this.running) return
    if (to > from && this.core !== null && to > this.core.height) {
      this.stop()
      this.undelivered.length = 0
      this.ahead.clear()
      this.start()
      this.emit({ kind: 'resynced', from, to })
    } else {
      this.tryDeliver()
    }
  }

  private requestCatchUp(): void {
    if (this.core === null) return
    const height = Math.min(this.core.height, this.undelivered[0]?.height ?? Infinity)
    void this.publish(WITNESS_TOPIC, new TextEncoder().encode(JSON.stringify({ kind: 'catch-up', height })))
  }

  private keepAhead(height: number, gossip: WitnessGossip): void {
    if (height > this.height + this.window) return
    const list = this.ahead.get(height) ?? []
    if (list.length >= 64) return
    list.push(gossip)
    this.ahead.set(height, list)
  }

  /** Feeds kept messages of heights that are now within the core's window. */
  private replayAhead(): void {
    if (this.core === null) return
    for (const h of [...this.ahead.keys()].sort((a, b) => a - b)) {
      if (h < this.core.height) this.ahead.delete(h)
      else if (h <= this.core.height + 1) {
        const list = this.ahead.get(h)!
        this.ahead.delete(h)
        for (const g of list) this.perform(this.core.receive(g))
      }
    }
  }

  /**
   * Forgets held entries whose (author, seq) the log now holds: the entry itself, or another one
   * with that seq, which can then never be final and would only take a place in every set.
   * `authors` narrows the look to theirs (those of a batch just appended).
   */
  private dropSettled(authors?: ReadonlySet<string>): void {
    const settled: string[] = []
    for (const [h, d] of this.known) {
      if (authors !== undefined && !authors.has(d.entry.author)) continue
      // An entry in the log has its seq there: one lookup covers it and its twins.
      if (this.store.hasSeq(d.entry.author, d.entry.seq)) settled.push(h)
    }
    for (const h of settled) {
      const d = this.known.get(h)!
      this.heldTwins.delete(`${d.entry.author}:${d.entry.seq}`)
      this.known.delete(h)
      this.decodedLeaves.delete(h)
    }
    if (settled.length > 0) {
      this.core?.removePending(settled)
      this.store.removePending(settled)
    }
  }

  /** Keeps an entry's bytes for batches that name it; `pending`: also sign it into the next sets. */
  private holdEntry(decoded: DecodedEntry, pending = true): void {
    this.known.set(decoded.hash, decoded)
    this.decodedLeaves.set(decoded.hash, leafHash(decoded.bytes))
    if (pending) this.core?.addPending(decoded.hash)
    this.emit({ kind: 'entry', hash: decoded.hash })
  }

  private republishEntry(hash: string): void {
    const decoded = this.known.get(hash)
    if (decoded !== undefined) void this.publish(ENTRY_TOPIC, decoded.bytes)
  }

  // ---- epochs and timers ----

  /**
   * The first height not yet decided here: one past the epoch of the latest final checkpoint (an
   * empty epoch's checkpoint included: the store keeps it apart from the per-size history).
   */
  private nextHeight(): number {
    return (this.store.latestFinalCheckpoint()?.epoch ?? -1) + 1
  }

  private epochEndMs(epoch: number): number {
    const g = this.store.genesis
    return g.created + (epoch + 1) * g.epochMs
  }

  /** Starts the current height once its epoch has ended on the wall clock (and the previous one is applied). */
  private scheduleEpoch(): void {
    clearTimeout(this.epochTimer)
    if (!this.running || this.core === null || this.undelivered.length > 0) return
    const height = this.core.height
    const wait = this.epochEndMs(height) - this.now()
    const begin = (): void => {
      if (!this.running || this.core === null || this.core.height !== height) return
      this.emit({ kind: 'height-started', height })
      this.perform(this.core.startHeight(height))
    }
    if (wait <= 0) begin()
    else this.epochTimer = setTimeout(begin, wait)
  }

  private setTimer(timer: WitnessTimer, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (this.running && this.core !== null) this.perform(this.core.onTimer(timer))
    }, ms)
    this.timers.add(t)
  }

  // ---- actions out ----

  private perform(actions: readonly WitnessAction[]): void {
    if (actions.length === 0 || this.core === null) return
    // What we signed must be on disk before anyone can see it: a restarted witness then never
    // signs a conflicting statement for the same epoch or round (which would be a fork proof).
    if (actions.some((a) => a.kind === 'gossip')) this.saveSnapshot(this.core.snapshot())
    for (const action of actions) {
      switch (action.kind) {
        case 'gossip':
          this.gossip(action.message)
          break
        case 'timer':
          this.setTimer(action.timer, action.ms)
          break
        case 'decide':
          this.keepCertificate(action.height, action.proposal, action.precommits)
          this.decide(action.height, action.round, action.batch, action.precommits.flatMap((p) => this.cosignatureOf(p.sender, p.extension)))
          break
        case 'fork-proof':
          this.recordForkProof(action.witness, action.proof)
          break
      }
    }
  }

  private gossip(message: WitnessGossip): void {
    const rewrite = this.options.testOnlyRewriteOutgoing
    const out = rewrite === undefined ? [message] : rewrite(message, { treeAfter: (e) => this.treeAfter(e), setFor: (h) => this.core?.setFor(h) })
    for (const m of out) void this.publish(WITNESS_TOPIC, new TextEncoder().encode(JSON.stringify(m)))
  }

  private async publish(topic: string, data: Uint8Array): Promise<void> {
    try {
      await this.options.pubsub.publish(topic, data)
    } catch {
      // No peer subscribed yet, or stopping: re-gossip retries.
    }
  }

  private recordForkProof(witness: string, proof: ForkProof): void {
    try {
      this.store.addForkProof(proof)
    } catch (err) {
      this.emit({ kind: 'error', message: `fork proof not stored: ${(err as Error).message}` })
    }
    this.publishConviction(proof)
    this.emit({ kind: 'fork-proof', witness, proofType: proof.type })
  }

  /**
   * Submits `proof` as a `fork-proof` entry signed by this node, unless an entry accusing the same
   * witness is already in the log or pending here: once final it convicts the witness for every
   * node alike (`../convictions.ts`).
   */
  private publishConviction(proof: ForkProof): void {
    // Only an entry that proves it counts: a forker could otherwise file a junk entry against
    // itself first and so keep every correct witness from filing a real one.
    if (this.store.accusedInLog().has(proof.witness)) return
    // A held twin does not count: it is never signed, and its author (the forker, say) may have
    // made it just to stand in the way.
    for (const d of this.known.values()) {
      if (d.entry.kind === 'fork-proof' && this.isPending(d) && convictedBy(d.entry.body, this.store.convictionContext) === proof.witness) return
    }
    try {
      const seq = this.store.nextSeq(this.nodeId)
      const entry = signEntry({ network: this.store.network, kind: 'fork-proof', seq, time: this.now(), body: proof }, this.options.keys)
      this.submit(encodeEntry(entry))
    } catch (err) {
      this.emit({ kind: 'error', message: `fork-proof entry not submitted: ${(err as Error).message}` })
    }
  }

  // ---- decisions ----

  private keepCertificate(height: number, proposal: ConsensusMessage<EpochBatch>, precommits: readonly ConsensusMessage<EpochBatch>[]): void {
    this.certificates.set(height, [proposal, ...precommits].map((message) => ({ kind: 'consensus', message })))
    for (const h of this.certificates.keys()) if (h < height - this.window) this.certificates.delete(h)
  }

  private decide(height: number, round: number, batch: EpochBatch, cosignatures: NoteSignature[]): void {
    this.undelivered.push({ height, round, batch, cosignatures })
    this.tryDeliver()
  }

  /** Appends the decided batch once we hold every entry of it (others re-publish what we lack). */
  private tryDeliver(): void {
    while (this.undelivered.length > 0 && this.deliverOldest()) {
      // each pass appends one decided batch
    }
    if (this.undelivered.length === 0) {
      this.replayAhead()
      this.scheduleEpoch()
    }
  }

  private deliverOldest(): boolean {
    const pending = this.undelivered[0]
    // A log sync is appending: this batch waits (and is dropped if the sync passes it).
    if (pending === undefined || this.core === null || this.syncing) return false
    const missing = pending.batch.entries.filter((h) => !this.known.has(h) && this.store.indexOf(h) === undefined)
    if (missing.length > 0) return false
    const fresh = pending.batch.entries.filter((h) => this.store.indexOf(h) === undefined)
    // Whose twins may have lost now: the batch's authors (all of them, unless a sync stored some we never held).
    const held = pending.batch.entries.map((h) => this.known.get(h)?.entry.author)
    const authors = held.every((a) => a !== undefined) ? new Set(held as string[]) : undefined
    const note = formatSignedNote(formatCheckpoint(this.checkpointOf(pending.batch)), pending.cosignatures)
    let stored: StoredCheckpoint | undefined
    try {
      // Entries and the checkpoint that includes them land together (a crash keeps both or neither).
      stored = fresh.length > 0 ? this.store.appendFinal(fresh.map((h) => this.known.get(h)!), note).checkpoint : this.store.addCheckpoint(note)
    } catch (err) {
      this.emit({ kind: 'error', message: `decided tree ${pending.batch.tree.size}/${pending.batch.tree.root} not stored: ${(err as Error).message}` })
    }
    const size = this.store.size()
    const root = this.store.rootHex()
    for (const h of pending.batch.entries) {
      this.known.delete(h)
      this.decodedLeaves.delete(h)
    }
    this.core.removePending(pending.batch.entries)
    this.dropSettled(authors)
    this.undelivered.shift()
    this.emit({
      kind: 'decided',
      height: pending.height,
      round: pending.round,
      entries: pending.batch.entries,
      size,
      root,
      final: stored?.final ?? false,
      cosigners: pending.cosignatures.length,
    })
    this.saveSnapshot(this.core.snapshot())
    return true
  }

  // ---- the log seen by the core ----

  /** The tree after appending `entries` (in order) to the stored log. */
  private treeAfter(entries: readonly string[]): BatchTree {
    const appender = TreeAppender.fromStore(this.store.size(), this.store)
    for (const h of entries) {
      const leaf = this.decodedLeaves.get(h)
      if (leaf === undefined) return { size: -1, root: '' } // we lack it: matches no proposal
      appender.append(leaf)
    }
    return { size: appender.size, root: bytesToHex(appender.root()) }
  }

  // ---- checkpoints and cosignatures (C2SP tlog-checkpoint + cosignature/v1) ----

  /**
   * The checkpoint closing the batch's epoch. Besides the epoch it names the size before the batch
   * (`from <n>`), so a node syncing later can tell it was given every checkpoint that included
   * entries (`batchStartOf`, `sync.ts`).
   */
  private checkpointOf(batch: EpochBatch): Checkpoint {
    const from = batch.tree.size - batch.entries.length
    return { origin: this.store.origin, size: batch.tree.size, root: hexToBytes(batch.tree.root), extensions: [`epoch ${batch.epoch}`, `from ${from}`] }
  }

  private cosignBatch(batch: EpochBatch): string {
    const g = this.store.genesis
    const sig = cosign(formatCheckpoint(this.checkpointOf(batch)), this.options.keys, epochEndSeconds(g.created, g.epochMs, batch.epoch))
    return Buffer.from(sig.signature).toString('base64')
  }

  private cosignatureOf(witness: string, extension: string | undefined): NoteSignature[] {
    if (extension === undefined) return []
    const name = witnessKeyName(witness)
    return [{ name, keyId: noteKeyId(name, COSIGNATURE_V1_TYPE, hexToBytes(witness)), signature: new Uint8Array(Buffer.from(extension, 'base64')) }]
  }

  private verifyBatchCosignature(batch: EpochBatch, witness: string, extension: string): boolean {
    if (batch.tree.size < 0) return false
    let body: string
    try {
      body = formatCheckpoint(this.checkpointOf(batch))
    } catch {
      return false
    }
    const signatures = this.cosignatureOf(witness, extension)
    return verifyCosignatures({ checkpoint: this.checkpointOf(batch), body, signatures }, [witness]).valid.length === 1
  }

  // ---- persistence of what we signed ----

  private loadSnapshot(): WitnessSnapshot | null {
    const path = join(this.options.dataDir, STATE_FILE)
    if (!existsSync(path)) return null
    try {
      const snapshot: unknown = JSON.parse(readFileSync(path, 'utf8'))
      // One written by another protocol version (an upgrade) is passed on too: the core keeps its
      // own epoch sets that still verify (see WitnessSnapshot.protocol).
      return typeof snapshot === 'object' && snapshot !== null && !Array.isArray(snapshot) ? (snapshot as WitnessSnapshot) : null
    } catch {
      return null
    }
  }

  private saveSnapshot(snapshot: WitnessSnapshot): void {
    const path = join(this.options.dataDir, STATE_FILE)
    const tmp = `${path}.tmp`
    // Write + rename is atomic and survives kill -9 (the page cache outlives the process). No fsync:
    // it is on the path of every vote, and would cost more than a round on a busy disk; after an OS
    // crash a witness could lose its last snapshot (then it must sit out that height).
    writeFileSync(tmp, JSON.stringify(snapshot))
    renameSync(tmp, path)
  }

  private emit(event: WitnessEvent): void {
    this.options.onEvent?.(event)
  }
}
