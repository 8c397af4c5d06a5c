import { z } from 'zod'
import { bytesToHex, type KeyPair } from '../../identity/index.js'
import { batchId, buildBatch, censoredEntries, checkEntriesOf, EpochBatchSchema, resolveEvidence, validateBatch, type BatchTree, type EpochBatch } from './batch.js'
import { verifyEpochSet as verifySignedSet } from '../epoch-set.js'
import { EpochSetSchema, headerOf, signEpochSet, verifyEpochSet, type EpochSet, type EpochSetHeader } from './epoch-set.js'
import { canonicalForkProof, epochSetFork, forkProofId, ForkProofSchema, verifyForkProof, voteFork, type ForkProof } from './fork-proof.js'
import { CONSENSUS_DOMAIN, consensusMessageSchema, type ConsensusMessage, type VoteMessage } from './messages.js'
import {
  checkWitnessSet,
  initialState,
  stepTendermint,
  type TendermintConfig,
  type TendermintEvent,
  type TendermintState,
  type TimeoutKind,
  type TimeoutSchedule,
} from './tendermint.js'

/**
 * The deterministic heart of a witness: the Tendermint machine for one height per epoch, plus the
 * epoch sets, the batch it offers as proposer, and fork-proof handling. Like the machine it does
 * no I/O and reads no clock: `WitnessService` (and the simulator in the tests) feed it gossip and
 * timer expiries and carry out the actions it returns. Keeping this core pure is what lets the
 * simulation tests exercise the same code that runs in a witness process.
 */

/** What witnesses gossip to each other about finality (entries themselves travel separately). */
export type WitnessGossip =
  | { readonly kind: 'consensus'; readonly message: ConsensusMessage<EpochBatch> }
  | { readonly kind: 'epoch-set'; readonly set: EpochSet }
  | { readonly kind: 'fork-proof'; readonly proof: ForkProof }

export const WitnessGossipSchema: z.ZodType<WitnessGossip> = z.union([
  z.strictObject({ kind: z.literal('consensus'), message: consensusMessageSchema(EpochBatchSchema) }),
  z.strictObject({ kind: z.literal('epoch-set'), set: EpochSetSchema }),
  z.strictObject({ kind: z.literal('fork-proof'), proof: ForkProofSchema }),
]) as unknown as z.ZodType<WitnessGossip>

export type WitnessTimer =
  | { readonly kind: 'consensus'; readonly timeout: TimeoutKind; readonly height: number; readonly round: number }
  /** End of the grace a proposer gives missing epoch sets once it holds k of them. */
  | { readonly kind: 'collect'; readonly height: number }

export type WitnessAction =
  | { readonly kind: 'gossip'; readonly message: WitnessGossip }
  | { readonly kind: 'timer'; readonly timer: WitnessTimer; readonly ms: number }
  | {
      readonly kind: 'decide'
      readonly height: number
      readonly round: number
      readonly batch: EpochBatch
      readonly proposal: ConsensusMessage<EpochBatch>
      readonly precommits: readonly VoteMessage[]
    }
  | { readonly kind: 'fork-proof'; readonly witness: string; readonly proof: ForkProof }

/** The local log as the core sees it. */
export interface LocalLog {
  /** The tree after appending `entries` (in this order) to the log as it is now. */
  treeAfter(entries: readonly string[]): BatchTree
  /** Whether this witness holds the entry's bytes (it cannot append what it does not hold). */
  hasEntry(hash: string): boolean
  /**
   * Of the pending pool (oldest first), the entries that may go into a signed set: the log's
   * rules can forbid some, e.g. all but one of two entries with one author and seq, which could
   * otherwise both reach k and make a batch no log can append. Lazily, in the same order.
   */
  signable?(hashes: Iterable<string>): Iterable<string>
  /**
   * Witnesses convicted by a fork-proof entry decided at a height below `height`: their votes,
   * sets and cosignatures do not count from `height` on. Read from the log, so every witness bans
   * a forker at the same height (`../convictions.ts`).
   */
  convictedBefore(height: number): readonly string[]
}

export interface WitnessCoreOptions {
  readonly network: string
  readonly witnesses: readonly string[]
  readonly quorum: number
  readonly keys: KeyPair
  readonly timeouts: TimeoutSchedule
  /** How long a proposer holding k sets waits for the remaining ones before proposing. */
  readonly collectGraceMs: number
  readonly log: LocalLog
  /** Cosignature of the batch's checkpoint carried in this witness's precommit (C2SP, see witness.ts). */
  cosign?(batch: EpochBatch): string
  verifyCosignature?(batch: EpochBatch, witness: string, cosignature: string): boolean
}

/** The part of the core that must survive a restart, so a witness never signs twice differently. */
export interface WitnessSnapshot {
  /**
   * The consensus protocol version that signed what the snapshot holds (`CONSENSUS_DOMAIN`). Of a
   * snapshot of another version only the own epoch sets that still verify are kept: its consensus
   * statements neither verify nor may be resent, but sets are versioned on their own (`v`), and
   * signing another set for an epoch whose set still verifies would prove a fork against oneself.
   */
  readonly protocol: string
  readonly machine: TendermintState<EpochBatch>
  readonly ownSets: readonly EpochSet[]
  readonly pending: readonly string[]
  readonly forkProofs: readonly ForkProof[]
}

export class WitnessCore {
  readonly self: string
  private machine: TendermintState<EpochBatch>
  private readonly config: TendermintConfig<EpochBatch>
  /** epoch → witness → first verified set seen, of witnesses not accused: what this witness builds and judges censorship by. */
  private readonly sets = new Map<number, Map<string, EpochSet>>()
  /**
   * epoch → `witness:digest` → every verified set received (an equivocator's second one and those
   * of accused witnesses included): what the evidence headers of a proposal are looked up in.
   */
  private readonly held = new Map<number, Map<string, EpochSet>>()
  private ownSets: EpochSet[] = []
  private readonly pending = new Set<string>()
  private readonly forkProofs = new Map<string, ForkProof>()
  /** Witnesses shown to have equivocated by a proof this witness holds, with the kinds of proof held. */
  private readonly proofTypes = new Map<string, Set<ForkProof['type']>>()
  /** Witnesses convicted in the log: ignored from the height after their conviction was decided. */
  private readonly faulty = new Set<string>()
  private readonly graceOver = new Set<number>()
  private readonly graceScheduled = new Set<number>()
  private offered: string | null = null
  /** Proposal + precommits of the last decided height, re-gossiped so a lagging witness can decide it too. */
  private lastCertificate: ConsensusMessage<EpochBatch>[] = []

  constructor(private readonly options: WitnessCoreOptions, height: number, snapshot?: WitnessSnapshot) {
    checkWitnessSet(options.witnesses, options.quorum)
    this.self = bytesToHex(options.keys.publicKey)
    this.config = {
      network: options.network,
      witnesses: options.witnesses,
      quorum: options.quorum,
      keys: options.keys,
      timeouts: options.timeouts,
      valueId: batchId,
      isValid: (batch, h) => this.valid(batch, h),
      isAcceptable: (batch, h) => this.acceptable(batch, h),
      isReady: (batch) => resolveEvidence(batch, this.resolve) !== undefined,
      ...(options.cosign === undefined ? {} : { extendPrecommit: (batch: EpochBatch) => options.cosign!(batch) }),
      ...(options.verifyCosignature === undefined
        ? {}
        : { verifyExtension: (batch: EpochBatch, _h: number, w: string, ext: string) => options.verifyCosignature!(batch, w, ext) }),
    }
    const current = snapshot?.protocol === CONSENSUS_DOMAIN ? snapshot : undefined
    this.machine = current?.machine.height === height ? current.machine : initialState<EpochBatch>(height, current?.machine.faulty ?? [])
    for (const w of this.machine.faulty) this.faulty.add(w)
    // An older version's file is not trusted to be well-formed: its sets are checked in full.
    const ownSets = current?.ownSets ?? (Array.isArray(snapshot?.ownSets) ? snapshot.ownSets.filter((s) => verifySignedSet(s)) : [])
    this.ownSets = ownSets.filter((s) => s.epoch >= height && s.witness === this.self && s.network === options.network)
    for (const set of this.ownSets) this.storeSet(set)
    // Insertion order is kept: it is the pending pool's age order (`signEpochSet` takes the oldest).
    for (const h of current?.pending ?? []) this.pending.add(h)
    for (const proof of current?.forkProofs ?? []) this.keepProof(forkProofId(proof), proof)
  }

  /** The height (epoch) being decided now. */
  get height(): number {
    return this.machine.height
  }

  get state(): TendermintState<EpochBatch> {
    return this.machine
  }

  /** Witnesses convicted in the log, whose signatures this witness ignores now. */
  get faultyWitnesses(): readonly string[] {
    return [...this.faulty]
  }

  /** Witnesses this witness holds a verified fork proof against (convicted or not yet). */
  get accusedWitnesses(): readonly string[] {
    return [...this.proofTypes.keys()]
  }

  get proofs(): readonly ForkProof[] {
    return [...this.forkProofs.values()]
  }

  get pendingEntries(): readonly string[] {
    return [...this.pending].sort()
  }

  snapshot(): WitnessSnapshot {
    return { protocol: CONSENSUS_DOMAIN, machine: this.machine, ownSets: this.ownSets, pending: [...this.pending], forkProofs: this.proofs }
  }

  /** A valid entry this witness holds that is not final yet: it goes into the next epoch set it signs. */
  addPending(hash: string): void {
    this.pending.add(hash)
  }

  /** Entries that became final through another path (e.g. log sync) leave the pending pool. */
  removePending(hashes: Iterable<string>): void {
    for (const h of hashes) this.pending.delete(h)
  }

  /**
   * Epoch `height` has ended on this witness's clock and the previous height is decided: sign the
   * epoch set (once per epoch, ever), gossip it, and start the height.
   */
  startHeight(height: number): WitnessAction[] {
    if (height !== this.machine.height || this.machine.step !== 'new-height') return []
    const actions: WitnessAction[] = []
    for (const witness of this.options.log.convictedBefore(height)) actions.push(...this.ban(witness))
    // A node that only follows the witnesses signs no epoch set: nobody would count it.
    if (this.options.witnesses.includes(this.self)) {
      let own = this.ownSets.find((s) => s.epoch === height)
      if (own === undefined) {
        own = signEpochSet(this.options.network, height, this.options.log.signable?.(this.pending) ?? this.pending, this.options.keys)
        this.ownSets.push(own)
      }
      this.storeSet(own)
      actions.push({ kind: 'gossip', message: { kind: 'epoch-set', set: own } })
    }
    actions.push(...this.stepMachine({ kind: 'start-height', height }))
    actions.push(...this.offerCandidate())
    return actions
  }

  /** Handles gossip from a peer (already parsed with `WitnessGossipSchema`; signatures checked here). */
  receive(message: WitnessGossip): WitnessAction[] {
    switch (message.kind) {
      case 'consensus':
        return this.stepMachine({ kind: 'message', message: message.message })
      case 'epoch-set':
        return this.receiveSet(message.set)
      case 'fork-proof':
        return this.receiveForkProof(message.proof)
    }
  }

  /**
   * After a restart from a snapshot: the timers of the restored round (they died with the process).
   * Call once, right after construction; nothing to do when the snapshot was of another height.
   */
  resume(): WitnessAction[] {
    return this.stepMachine({ kind: 'resume' })
  }

  onTimer(timer: WitnessTimer): WitnessAction[] {
    if (timer.kind === 'collect') {
      this.graceOver.add(timer.height)
      return this.offerCandidate()
    }
    return this.stepMachine({ kind: 'timeout', timeout: timer.timeout, height: timer.height, round: timer.round })
  }

  /**
   * What to gossip again: gossip is best effort (a peer may have been down or partitioned), while
   * Tendermint's liveness assumes a message received by a correct witness eventually reaches every
   * correct witness (paper §2, the gossip assumption). Re-sending every epoch set and consensus
   * message of this height we hold (ours and relayed ones: their signatures speak for them), and
   * the last decision's certificate, restores that assumption and lets conflicting statements of an
   * equivocating witness meet somewhere, where they become a fork proof.
   */
  regossip(): WitnessAction[] {
    const out: WitnessGossip[] = []
    for (const proof of this.forkProofs.values()) out.push({ kind: 'fork-proof', proof })
    for (const set of this.held.get(this.machine.height)?.values() ?? []) out.push({ kind: 'epoch-set', set })
    // The current round; the one before it (a witness still there may lack the precommit that
    // lets it time out: with a witness convicted, all k correct ones must move together, and the
    // round skip of line 55 needs n − k + 1 senders of the later round); and the round whose
    // prevotes justify re-proposing validValue (line 28).
    const rounds = new Set([this.machine.round - 1, this.machine.round, this.machine.validRound])
    for (const r of rounds) {
      const log = this.machine.rounds[String(r)]
      if (log === undefined) continue
      if (log.proposal !== null) out.push({ kind: 'consensus', message: log.proposal })
      for (const m of [...Object.values(log.prevotes), ...Object.values(log.precommits)]) out.push({ kind: 'consensus', message: m })
    }
    for (const m of this.lastCertificate) out.push({ kind: 'consensus', message: m })
    return out.map((message) => ({ kind: 'gossip', message }))
  }

  // ---- internals ----

  private batchRules() {
    // Proven-faulty witnesses' sets stay acceptable as evidence: valid(v) must not depend on which
    // fork proofs a witness happens to know yet, or correct witnesses could disagree on validity.
    return { network: this.options.network, witnesses: this.options.witnesses, quorum: this.options.quorum }
  }

  /** validateBatch, remembered per batch object (the machine re-checks the same proposal in several rules). */
  private valid(batch: EpochBatch, height: number): boolean {
    let byHeight = this.verdicts.get(batch)
    if (byHeight === undefined) {
      byHeight = new Map()
      this.verdicts.set(batch, byHeight)
    }
    let ok = byHeight.get(height)
    if (ok === undefined) {
      ok = validateBatch(batch, height, this.batchRules()).ok
      byHeight.set(height, ok)
    }
    return ok
  }

  private readonly verdicts = new WeakMap<EpochBatch, Map<number, boolean>>()

  /**
   * Acceptance of a fresh proposal, once its named sets are held (`isReady`): its entries are those
   * in ≥ k of them, we hold every entry, the tree matches ours, and nothing is censored.
   */
  private acceptable(batch: EpochBatch, height: number): boolean {
    const named = resolveEvidence(batch, this.resolve)
    if (named === undefined || !checkEntriesOf(batch, named, this.options.quorum).ok) return false
    if (!batch.entries.every((h) => this.options.log.hasEntry(h))) return false
    const tree = this.options.log.treeAfter(batch.entries)
    if (tree.size !== batch.tree.size || tree.root !== batch.tree.root) return false
    const known = [...(this.sets.get(height)?.values() ?? [])]
    return censoredEntries(batch, [...named, ...known], this.options.quorum).length === 0
  }

  /** The full set a proposal's evidence header names, among the verified sets received. */
  private readonly resolve = (header: EpochSetHeader): EpochSet | undefined => this.held.get(header.epoch)?.get(`${header.witness}:${header.digest}`)

  /** The full set named by `header`, if this witness holds it (for tests' Byzantine proposers). */
  setFor(header: EpochSetHeader): EpochSet | undefined {
    return this.resolve(header)
  }

  private storeSet(set: EpochSet): void {
    this.hold(set)
    let byWitness = this.sets.get(set.epoch)
    if (byWitness === undefined) {
      byWitness = new Map()
      this.sets.set(set.epoch, byWitness)
    }
    if (!byWitness.has(set.witness)) byWitness.set(set.witness, set)
  }

  /** Keeps a verified set where evidence headers are looked up; true if it was not held yet. */
  private hold(set: EpochSet): boolean {
    let byKey = this.held.get(set.epoch)
    if (byKey === undefined) {
      byKey = new Map()
      this.held.set(set.epoch, byKey)
    }
    const key = `${set.witness}:${headerOf(set).digest}`
    if (byKey.has(key)) return false
    // Two sets per witness and epoch are all a proof or a proposal can need; an equivocator
    // signing ever more sets must not grow what is kept.
    let count = 0
    for (const held of byKey.values()) if (held.witness === set.witness) count++
    if (count >= 2) return false
    byKey.set(key, set)
    return true
  }

  private receiveSet(set: EpochSet): WitnessAction[] {
    if (set.network !== this.options.network || !this.options.witnesses.includes(set.witness)) return []
    // Only the current epoch and the next one matter; older sets can only feed fork proofs we no longer need.
    if (set.epoch < this.machine.height || set.epoch > this.machine.height + 1) return []
    if (this.faulty.has(set.witness) || !verifyEpochSet(set)) return []
    // Held even from an accused witness, or as an equivocator's second set: a proposer that has
    // not seen the proof yet may name it as evidence, and its proposal must still be judged.
    const fresh = this.hold(set)
    const actions: WitnessAction[] = []
    const existing = this.sets.get(set.epoch)?.get(set.witness)
    if (this.proofTypes.has(set.witness)) {
      // Accused: its sets shape nothing this witness builds or calls censored (see receiveForkProof).
    } else if (existing !== undefined) {
      if (existing.sig !== set.sig) actions.push(...this.receiveForkProof(epochSetFork(existing, set)))
    } else {
      this.storeSet(set)
      actions.push(...this.offerCandidate())
    }
    // A proposal of this height may have been waiting for this set.
    if (fresh && set.epoch === this.machine.height && this.machine.step === 'propose') actions.push(...this.stepMachine({ kind: 'data' }))
    return actions
  }

  private receiveForkProof(proof: ForkProof): WitnessAction[] {
    // One proof of each type per witness is all anyone needs: an equivocator signing ever more
    // conflicting messages must not grow what is kept, stored and re-gossiped.
    if (this.proofTypes.get(proof.witness)?.has(proof.type) === true) return []
    const id = forkProofId(proof)
    if (this.forkProofs.has(id)) return []
    let witness: string
    try {
      witness = verifyForkProof(proof, this.options.network, this.options.witnesses, this.options.quorum)
    } catch {
      return []
    }
    const canonical = canonicalForkProof(proof)
    const newlyAccused = !this.proofTypes.has(witness)
    this.keepProof(id, canonical)
    // The service publishes it as a fork-proof entry; gossiped once, so every witness holds the
    // evidence. Its votes still count: a witness that stopped counting them on its own, before
    // the others, could not accept a decision they reached with the forker's precommit. That ban
    // starts at the height after the entry is decided (`startHeight`), the same for all.
    const actions: WitnessAction[] = [
      { kind: 'fork-proof', witness, proof: canonical },
      { kind: 'gossip', message: { kind: 'fork-proof', proof: canonical } },
    ]
    // Its epoch sets, though, are dropped now: they only shape what this witness proposes and
    // accepts (local choices; a batch's validity rests on the evidence it carries), and an
    // equivocator's two sets would otherwise give correct witnesses different views of what is
    // censored — each rejecting the others' proposals until the conviction, which needs a decision.
    if (newlyAccused) {
      for (const byWitness of this.sets.values()) byWitness.delete(witness)
      actions.push(...this.offerCandidate())
    }
    return actions
  }

  private keepProof(id: string, proof: ForkProof): void {
    this.forkProofs.set(id, proof)
    let types = this.proofTypes.get(proof.witness)
    if (types === undefined) this.proofTypes.set(proof.witness, (types = new Set()))
    types.add(proof.type)
  }

  /** Stops counting a witness convicted in the log: its sets, votes and proposals from now on. */
  private ban(witness: string): WitnessAction[] {
    if (this.faulty.has(witness) || !this.options.witnesses.includes(witness)) return []
    this.faulty.add(witness)
    for (const byWitness of this.sets.values()) byWitness.delete(witness)
    return this.stepMachine({ kind: 'faulty', witness })
  }

  /** getValue(): once k sets are in, and all sets or the grace period, offer the batch as candidate. */
  private offerCandidate(): WitnessAction[] {
    const height = this.machine.height
    if (this.machine.step === 'new-height') return []
    const sets = [...(this.sets.get(height)?.values() ?? [])]
    const live = this.options.witnesses.filter((w) => !this.faulty.has(w) && !this.proofTypes.has(w)).length
    if (sets.length < this.options.quorum) return []
    const actions: WitnessAction[] = []
    if (sets.length < live && !this.graceOver.has(height)) {
      if (!this.graceScheduled.has(height)) {
        this.graceScheduled.add(height)
        actions.push({ kind: 'timer', timer: { kind: 'collect', height }, ms: this.options.collectGraceMs })
      }
      return actions
    }
    const built = buildBatch(sets, this.options.quorum)
    if (built === null) return actions
    const batch: EpochBatch = { epoch: height, ...built, tree: this.options.log.treeAfter(built.entries) }
    const id = batchId(batch)
    if (id === this.offered) return actions
    this.offered = id
    actions.push(...this.stepMachine({ kind: 'value', height, value: batch }))
    return actions
  }

  private stepMachine(event: TendermintEvent<EpochBatch>): WitnessAction[] {
    const { state, actions } = stepTendermint(this.config, this.machine, event)
    this.machine = state
    const out: WitnessAction[] = []
    for (const action of actions) {
      switch (action.kind) {
        case 'broadcast':
          out.push({ kind: 'gossip', message: { kind: 'consensus', message: action.message } })
          break
        case 'schedule-timeout':
          out.push({
            kind: 'timer',
            timer: { kind: 'consensus', timeout: action.timeout, height: action.height, round: action.round },
            ms: action.ms,
          })
          break
        case 'decide': {
          const batch = action.value
          for (const h of batch.entries) this.pending.delete(h)
          this.lastCertificate = [action.proposal, ...action.precommits]
          for (const epoch of [...this.sets.keys()]) if (epoch <= action.height) this.sets.delete(epoch)
          for (const epoch of [...this.held.keys()]) if (epoch <= action.height) this.held.delete(epoch)
          this.ownSets = this.ownSets.filter((s) => s.epoch > action.height)
          this.offered = null
          out.push({ kind: 'decide', height: action.height, round: action.round, batch, proposal: action.proposal, precommits: action.precommits })
          break
        }
        case 'equivocation':
          out.push(...this.receiveForkProof(voteFork(action.first, action.second)))
          break
      }
    }
    return out
  }

}
