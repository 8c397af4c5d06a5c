/**
 * A deterministic, seeded network simulator for witness consensus. It drives real `WitnessCore`s
 * (hence the real Tendermint machine, epoch sets, batches and fork proofs) over a virtual clock,
 * with the partially synchronous model of the Tendermint paper (§2): before GST messages may be
 * delayed arbitrarily, reordered, dropped, or cut by a partition; after GST every message between
 * live witnesses arrives within `delta`. Witnesses re-gossip periodically (as `WitnessService`
 * does), which is what makes a message dropped before GST arrive after it.
 * No wall clock, no I/O: the same seed replays the same run.
 */
import { bytesToHex, hexToBytes, keyPairFromSecret, sha256, sha256Hex, type KeyPair } from '../../src/identity/index.js'
import { headerOf, signEpochSet, type EpochSet, type EpochSetHeader } from '../../src/ledger/consensus/epoch-set.js'
import { leafHash, rootHash } from '../../src/ledger/merkle.js'
import { batchId, buildBatch, type BatchTree, type EpochBatch } from '../../src/ledger/consensus/batch.js'
import { signConsensusMessage, type ConsensusMessage } from '../../src/ledger/consensus/messages.js'
import {
  WitnessCore,
  type WitnessAction,
  type WitnessGossip,
  type WitnessSnapshot,
  type WitnessTimer,
} from '../../src/ledger/consensus/witness-core.js'
import type { TimeoutSchedule } from '../../src/ledger/consensus/tendermint.js'

import { seededRandom } from './seeded-random.js'

export { seededRandom }

/** Fixed witness keys: witness i's secret is sha256("commons-test-witness-i"). */
export function witnessKeys(n: number): KeyPair[] {
  return Array.from({ length: n }, (_, i) => keyPairFromSecret(sha256(`commons-test-witness-${i}`)))
}

export const SIM_NETWORK = sha256Hex('commons-sim-network')

export type ByzantineMode =
  /** Signs two different epoch sets and, for every vote or proposal, a conflicting twin sent to the other half. */
  | 'equivocate'
  /** Leaves `censored` out of its own epoch set and, as proposer, picks evidence that keeps it below k. */
  | 'censor'

export interface SimOptions {
  readonly seed: number
  readonly n?: number
  readonly quorum?: number
  /** Heights every live correct witness must decide before the run stops early. */
  readonly heights: number
  /** Virtual ms at which the run stops regardless. */
  readonly maxTime: number
  readonly gst: number
  /** Before GST: delay drawn from [0, maxDelayBeforeGst]. */
  readonly maxDelayBeforeGst: number
  /** Before GST: probability a message to one recipient is lost. */
  readonly dropBeforeGst?: number
  /** After GST: delay drawn from [1, delta]. */
  readonly delta: number
  /** Before GST, messages between groups are lost. */
  readonly partition?: readonly (readonly number[])[]
  readonly timeouts?: TimeoutSchedule
  readonly collectGraceMs?: number
  readonly regossipEvery?: number
  /** Witnesses that are down from the start. */
  readonly down?: readonly number[]
  /** Witness `node` comes up (fresh process, same key) at virtual time `at`. */
  readonly revive?: { readonly node: number; readonly at: number }
  /**
   * Witness `node` crashes right after it starts height `atHeight` (its timers die with it; what
   * it signed is in its snapshot) and restarts from that snapshot `downFor` ms later.
   */
  readonly crash?: { readonly node: number; readonly atHeight: number; readonly downFor: number }
  readonly byzantine?: { readonly node: number; readonly mode: ByzantineMode }
  /** Entry held by the correct witnesses that a censoring witness tries to keep out. */
  readonly censored?: string
  /** Entries in the pool (each correct witness holds each with probability `holdProbability`). */
  readonly entries?: number
  readonly holdProbability?: number
}

export interface Decision {
  readonly height: number
  readonly round: number
  readonly id: string
  readonly batch: EpochBatch
  readonly time: number
  readonly cosigners: number
  /** Senders of the deciding precommits. */
  readonly signers: readonly string[]
}

export interface SimResult {
  /** decisions[node] in height order. */
  readonly decisions: readonly Decision[][]
  readonly correct: readonly number[]
  /** Witnesses caught with a verified fork proof, per detecting node. */
  readonly caught: readonly Set<string>[]
  readonly keys: readonly KeyPair[]
  readonly time: number
  readonly delivered: number
  /** Every epoch set sent in the run, by the header naming it: what a decided batch is checked against. */
  readonly setFor: (header: EpochSetHeader) => EpochSet | undefined
  /** Proposals the censoring witness sent with `censored` kept out (so the test saw an attempt). */
  readonly censoringProposals: number
}

interface SimNode {
  core: WitnessCore | null
  log: string[]
  held: Set<string>
  decisions: Decision[]
  caught: Set<string>
  snapshot: WitnessSnapshot | null
}

type SimEvent =
  | { kind: 'deliver'; to: number; message: WitnessGossip }
  | { kind: 'timer'; to: number; timer: WitnessTimer; incarnation: number }
  | { kind: 'start-height'; to: number; height: number; incarnation: number }
  | { kind: 'regossip'; to: number; incarnation: number }
  | { kind: 'revive'; to: number }

interface Queued {
  time: number
  seq: number
  event: SimEvent
}

/** A binary min-heap on (time, seq): reordering comes only from the drawn delays, never from ties. */
class EventQueue {
  private heap: Queued[] = []
  private seq = 0
  get size(): number {
    return this.heap.length
  }
  push(time: number, event: SimEvent): void {
    const item = { time, seq: this.seq++, event }
    const h = this.heap
    h.push(item)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(h[p]!, h[i]!)) break
      ;[h[p], h[i]] = [h[i]!, h[p]!]
      i = p
    }
  }
  pop(): Queued | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return top
  }
}

function less(a: Queued, b: Queued): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}

const DEFAULT_TIMEOUTS: TimeoutSchedule = { propose: 300, prevote: 100, precommit: 100, delta: 50 }
const MAX_EVENTS = 400_000

/** Fake local log for the simulator: a list of entry hashes, tree leaves = leafHash(hash bytes). */
function treeAfter(log: readonly string[], entries: readonly string[]): BatchTree {
  const leaves = [...log, ...entries].map((h) => leafHash(hexToBytes(h)))
  return { size: leaves.length, root: bytesToHex(rootHash(leaves)) }
}

/** Hash of the simulated fork-proof entry accusing `witness`. */
export function forkProofEntryHash(witness: string): string {
  return sha256Hex(`sim-fork-proof-${witness}`)
}

/** Entry hash i of the simulated pool. */
export function simEntry(i: number): string {
  return sha256Hex(`sim-entry-${i}`)
}

export function runSimulation(options: SimOptions): SimResult {
  const n = options.n ?? 4
  const quorum = options.quorum ?? Math.floor((2 * n) / 3) + 1
  const random = seededRandom(options.seed)
  const keys = witnessKeys(n)
  const witnesses = keys.map((k) => bytesToHex(k.publicKey))
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS
  const regossipEvery = options.regossipEvery ?? 500
  const queue = new EventQueue()
  const incarnation = Array<number>(n).fill(0)
  const byz = options.byzantine
  const down = new Set(options.down ?? [])
  const pool = Array.from({ length: options.entries ?? 6 }, (_, i) => simEntry(i))
  /** Fork-proof entries (hash → convicted witness): one per witness, as if every detector's entry were the same. */
  const forkEntries = new Map<string, string>()
  let now = 0
  let delivered = 0

  const nodes: SimNode[] = Array.from({ length: n }, (_, i) => {
    const held = new Set(pool.filter(() => random() < (options.holdProbability ?? 0.8)))
    if (options.censored !== undefined) {
      if (byz?.mode === 'censor' && byz.node === i) held.delete(options.censored)
      else held.add(options.censored)
    }
    return { core: null, log: [], held, decisions: [], caught: new Set(), snapshot: null }
  })

  const makeCore = (i: number, height: number, snapshot?: WitnessSnapshot): WitnessCore => {
    const node = nodes[i]!
    const core = new WitnessCore(
      {
        network: SIM_NETWORK,
        witnesses,
        quorum,
        keys: keys[i]!,
        timeouts,
        collectGraceMs: options.collectGraceMs ?? 40,
        log: {
          treeAfter: (entries) => treeAfter(node.log, entries),
          hasEntry: () => true,
          // Every height below the one being started is decided, so the whole log is "before".
          convictedBefore: () => node.log.filter((h) => forkEntries.has(h)).map((h) => forkEntries.get(h)!),
        },
      },
      height,
      snapshot,
    )
    for (const h of node.held) if (!node.log.includes(h)) core.addPending(h)
    return core
  }

  const delayTo = (from: number, to: number): number | null => {
    if (now >= options.gst) return 1 + Math.floor(random() * options.delta)
    if (options.partition !== undefined) {
      const group = options.partition.find((g) => g.includes(from))
      if (group !== undefined && !group.includes(to)) return null
    }
    if (random() < (options.dropBeforeGst ?? 0)) return null
    return Math.floor(random() * (options.maxDelayBeforeGst + 1))
  }

  const sent = new Map<string, EpochSet>()
  let censoringProposals = 0
  const send = (from: number, to: number, message: WitnessGossip): void => {
    if (message.kind === 'epoch-set') sent.set(`${message.set.witness}:${headerOf(message.set).digest}`, message.set)
    const d = delayTo(from, to)
    if (d !== null) queue.push(now + d, { kind: 'deliver', to, message })
  }

  const broadcast = (from: number, message: WitnessGossip): void => {
    if (byz !== undefined && byz.node === from) {
      byzantineSend(from, message)
      return
    }
    for (let to = 0; to < n; to++) if (to !== from) send(from, to, message)
  }

  /** The equivocating witness sends `message` to the low half and a signed twin to the high half. */
  const byzantineSend = (from: number, message: WitnessGossip): void => {
    if (byz!.mode === 'censor') {
      const censored = censoringVersion(from, message)
      for (let to = 0; to < n; to++) if (to !== from) send(from, to, censored)
      return
    }
    const twin = equivocatingTwin(from, message)
    for (let to = 0; to < n; to++) if (to !== from) send(from, to, to < n / 2 ? message : twin)
  }

  // Keyed by the signed statement (re-gossip wraps the same statement in a new envelope).
  const twins = new WeakMap<object, WitnessGossip>()
  const equivocatingTwin = (from: number, message: WitnessGossip): WitnessGossip => {
    const statement = message.kind === 'epoch-set' ? message.set : message.kind === 'consensus' ? message.message : message.proof
    let twin = twins.get(statement)
    if (twin === undefined) {
      twin = makeTwin(from, message)
      twins.set(statement, twin)
    }
    return twin
  }

  const makeTwin = (from: number, message: WitnessGossip): WitnessGossip => {
    const k = keys[from]!
    if (message.kind === 'epoch-set') {
      const fake = sha256Hex(`byzantine-extra-${message.set.epoch}`)
      return { kind: 'epoch-set', set: signEpochSet(SIM_NETWORK, message.set.epoch, [...message.set.entries.slice(1), fake], k) }
    }
    if (message.kind !== 'consensus') return message
    const m = message.message
    if (m.type === 'proposal') {
      // A second, different but valid-looking batch: built from a different subset of evidence.
      const alt = alternativeBatch(from, m.value)
      return { kind: 'consensus', message: signConsensusMessage({ ...strip(m), value: alt }, k) }
    }
    const other = m.valueId === null ? sha256Hex(`byzantine-${m.height}-${m.round}`) : null
    return { kind: 'consensus', message: signConsensusMessage({ ...strip(m), valueId: other }, k) }
  }

  /**
   * The full sets a batch names, as the Byzantine witness holds them (it built or received them;
   * those of a decided height, whose certificate is re-gossiped, are gone).
   */
  const setsNamed = (from: number, batch: EpochBatch): EpochSet[] =>
    batch.evidence.map((h) => nodes[from]!.core?.setFor(h)).filter((s): s is EpochSet => s !== undefined)

  const alternativeBatch = (from: number, batch: EpochBatch): EpochBatch => {
    const sets = setsNamed(from, batch)
    const forged: EpochBatch = { ...batch, tree: { size: batch.tree.size, root: sha256Hex(`byzantine-root-${batch.epoch}`) } }
    if (sets.length < quorum) return forged
    const evidence = sets.length > quorum ? sets.slice(1) : sets
    const built = buildBatch(evidence, quorum)!
    const alt: EpochBatch = { epoch: batch.epoch, ...built, tree: treeAfter(nodes[from]!.log, built.entries) }
    if (batchId(alt) !== batchId(batch)) return alt
    return { ...alt, tree: forged.tree }
  }

  /** The censoring witness replaces its proposals with a batch whose evidence keeps `censored` below k. */
  const censoringVersion = (from: number, message: WitnessGossip): WitnessGossip => {
    if (message.kind !== 'consensus' || message.message.type !== 'proposal') return message
    const m = message.message
    const target = options.censored!
    const sets = setsNamed(from, m.value)
    if (sets.length < quorum) return message
    sets.sort((a, b) => Number(a.entries.includes(target)) - Number(b.entries.includes(target)))
    const built = buildBatch(sets.slice(0, quorum), quorum)!
    if (!built.entries.includes(target)) censoringProposals++
    const value: EpochBatch = { epoch: m.value.epoch, ...built, tree: treeAfter(nodes[from]!.log, built.entries) }
    return { kind: 'consensus', message: signConsensusMessage({ ...strip(m), value, validRound: -1 }, keys[from]!) }
  }

  const perform = (i: number, actions: readonly WitnessAction[]): void => {
    const node = nodes[i]!
    for (const action of actions) {
      switch (action.kind) {
        case 'gossip':
          broadcast(i, action.message)
          break
        case 'timer':
          queue.push(now + action.ms, { kind: 'timer', to: i, timer: action.timer, incarnation: incarnation[i]! })
          break
        case 'decide': {
          node.log.push(...action.batch.entries)
          node.decisions.push({
            height: action.height,
            round: action.round,
            id: batchId(action.batch),
            batch: action.batch,
            time: now,
            cosigners: new Set(action.precommits.map((p) => p.sender)).size,
            signers: action.precommits.map((p) => p.sender),
          })
          // The next epoch has already ended in these runs: start the next height at once.
          queue.push(now, { kind: 'start-height', to: i, height: action.height + 1, incarnation: incarnation[i]! })
          break
        }
        case 'fork-proof': {
          node.caught.add(action.witness)
          // WitnessService submits a fork-proof entry; entries travel outside consensus gossip,
          // so each detector holding the proof holds the entry too.
          const entry = forkProofEntryHash(action.witness)
          forkEntries.set(entry, action.witness)
          if (!node.held.has(entry)) {
            node.held.add(entry)
            if (!node.log.includes(entry)) node.core?.addPending(entry)
          }
          break
        }
      }
    }
    node.snapshot = node.core?.snapshot() ?? null
  }

  const boot = (i: number): void => {
    const node = nodes[i]!
    incarnation[i]!++
    const height = node.decisions.length
    node.core = makeCore(i, height, node.snapshot ?? undefined)
    // As WitnessService.start: timers of a restored round, then the height (a no-op mid-round).
    perform(i, node.core.resume())
    queue.push(now, { kind: 'start-height', to: i, height, incarnation: incarnation[i]! })
    queue.push(now + regossipEvery, { kind: 'regossip', to: i, incarnation: incarnation[i]! })
  }

  const crash = options.crash
  let crashed = false
  for (let i = 0; i < n; i++) if (!down.has(i)) boot(i)
  if (options.revive !== undefined) queue.push(options.revive.at, { kind: 'revive', to: options.revive.node })

  const live = (): number[] => nodes.map((_, i) => i).filter((i) => nodes[i]!.core !== null && !(byz !== undefined && byz.node === i))
  const done = (): boolean => live().every((i) => nodes[i]!.decisions.length >= options.heights)

  for (let events = 0; events < MAX_EVENTS && queue.size > 0; events++) {
    const item = queue.pop()!
    if (item.time > options.maxTime) break
    now = item.time
    const ev = item.event
    const node = nodes[ev.to]!
    if (ev.kind === 'revive') {
      if (node.core === null) boot(ev.to)
      continue
    }
    const core = node.core
    if (core === null) continue
    if ('incarnation' in ev && ev.incarnation !== incarnation[ev.to]) continue
    switch (ev.kind) {
      case 'deliver':
        delivered++
        perform(ev.to, core.receive(ev.message))
        break
      case 'timer':
        perform(ev.to, core.onTimer(ev.timer))
        break
      case 'start-height':
        for (const h of node.held) if (!node.log.includes(h)) core.addPending(h)
        perform(ev.to, core.startHeight(ev.height))
        if (crash !== undefined && !crashed && crash.node === ev.to && crash.atHeight === ev.height) {
          crashed = true
          node.core = null
          incarnation[ev.to]!++
          queue.push(now + crash.downFor, { kind: 'revive', to: ev.to })
        }
        break
      case 'regossip':
        perform(ev.to, core.regossip())
        queue.push(now + regossipEvery, { kind: 'regossip', to: ev.to, incarnation: incarnation[ev.to]! })
        break
    }
    if (done()) break
  }

  const correct = nodes.map((_, i) => i).filter((i) => !(byz !== undefined && byz.node === i))
  return { decisions: nodes.map((x) => x.decisions), correct, caught: nodes.map((x) => x.caught), keys, time: now, delivered, setFor: (h) => sent.get(`${h.witness}:${h.digest}`), censoringProposals }
}

function strip<M extends ConsensusMessage<EpochBatch>>(m: M): Omit<M, 'sig' | 'sender'> {
  const { sig: _sig, sender: _sender, ...rest } = m
  return rest
}

/** Agreement (paper, Lemma "no two correct processes decide different values"): per height, one id among correct witnesses. */
export function conflictingHeights(result: SimResult): number[] {
  const byHeight = new Map<number, Set<string>>()
  for (const i of result.correct) {
    for (const d of result.decisions[i]!) {
      let ids = byHeight.get(d.height)
      if (ids === undefined) byHeight.set(d.height, (ids = new Set()))
      ids.add(d.id)
    }
  }
  return [...byHeight].filter(([, ids]) => ids.size > 1).map(([h]) => h)
}
