import { bytesToHex, type KeyPair } from '../../identity/index.js'
import { InvalidWitnessSetError } from './errors.js'
import {
  signConsensusMessage,
  verifyConsensusMessage,
  type ConsensusMessage,
  type ProposalMessage,
  type VoteMessage,
  type VoteType,
} from './messages.js'

/**
 * The Tendermint consensus algorithm (Buchman, Kwon, Milosevic, "The latest gossip on BFT
 * consensus", 2018, arXiv:1807.04938, Algorithm 1) as a pure, deterministic state machine:
 * `stepTendermint(config, state, event) → { state, actions }`. No I/O, no clock, no randomness:
 * the caller delivers messages, fires the timeouts it was asked to schedule, and carries out the
 * actions (broadcast, schedule a timeout, apply a decision, publish an equivocation).
 *
 * Commons runs one height per log epoch; the value decided at a height is the epoch batch. The
 * paper's thresholds are written for n = 3f + 1 with equal voting power; here the quorum is the
 * genesis threshold k > 2n/3 ("2f + 1" below), and the round-skip threshold is n − k + 1 ("f + 1"),
 * which for k > 2n/3 is at least one more than the number of faulty witnesses tolerated, so it
 * always includes a correct one (paper, line 55). Line numbers in comments refer to Algorithm 1.
 */

/**
 * Step of the current round (`step_p`). Transitions: `new-height` → `propose` on start-height
 * (StartRound(0)); `propose` → `prevote` on a proposal (lines 22, 28) or timeoutPropose (57);
 * `prevote` → `precommit` on 2f+1 prevotes for a value (36) or nil (44) or timeoutPrevote (61);
 * any step → `propose` of a higher round on timeoutPrecommit (65) or f+1 messages of a higher
 * round (55); a decision (49) → `new-height` of the next height.
 */
export type Step = 'new-height' | 'propose' | 'prevote' | 'precommit'

export type TimeoutKind = 'propose' | 'prevote' | 'precommit'

/** timeoutX(r) = base + r · delta (paper §2: timeouts grow with the round so they end up long enough after GST). */
export interface TimeoutSchedule {
  readonly propose: number
  readonly prevote: number
  readonly precommit: number
  readonly delta: number
}

/** Everything the machine needs that is not state. All functions must be pure and deterministic. */
export interface TendermintConfig<V> {
  /** Network id (hash of the genesis) bound into every signed message. */
  readonly network: string
  /** Witness public keys (hex), in the order the proposer rotates through. */
  readonly witnesses: readonly string[]
  /** k: votes needed for a quorum; must satisfy k > 2n/3 and k ≤ n. */
  readonly quorum: number
  /** This witness's keys, or null for an observer that follows decisions without voting. */
  readonly keys: KeyPair | null
  readonly timeouts: TimeoutSchedule
  /** id(v): a collision-resistant hash of the value (hex, 32 bytes). */
  valueId(value: V): string
  /** valid(v): the objective validity predicate every correct witness agrees on (lines 36, 49, 28). */
  isValid(value: V, height: number): boolean
  /**
   * Extra, local acceptance test of a fresh proposal (line 22 only), e.g. "does not censor an entry
   * I see in ≥ k signed epoch sets". Re-proposals with a proof of prevotes (line 28) and decisions
   * (line 49) use `isValid` alone, so a correct witness never refuses a value a quorum vouched for.
   */
  isAcceptable?(value: V, height: number): boolean
  /**
   * Whether this witness holds what it needs to judge a fresh proposal with `isAcceptable` (here:
   * the epoch sets a batch names). Until it does, it neither prevotes nor refuses (line 22 waits);
   * the propose timeout still prevotes nil, and a `data` event makes it look again.
   */
  isReady?(value: V, height: number): boolean
  /** Data attached to this witness's non-nil precommit (the checkpoint cosignature). */
  extendPrecommit?(value: V, height: number): string
  /** Checks another witness's precommit extension; precommits whose extension fails are not counted for a decision. */
  verifyExtension?(value: V, height: number, witness: string, extension: string): boolean
  /** How many rounds ahead of the current one messages are kept (bounds memory under spam). */
  readonly maxRoundsAhead?: number
}

/** Messages received at one round of the current height, at most one per sender and type. */
export interface RoundLog<V> {
  readonly proposal: ProposalMessage<V> | null
  readonly prevotes: Readonly<Record<string, VoteMessage>>
  readonly precommits: Readonly<Record<string, VoteMessage>>
  /**
   * An equivocator's other prevote / precommit of this round (one per sender and type), counted
   * for the value it names. The paper counts messages: a faulty witness that shows this witness a
   * nil vote and the others a vote for v counts for both. Keeping only its first vote lets it
   * split correct witnesses for good — e.g. the others decide v with its precommit and move to the
   * next height, while this witness, holding its nil precommit, can never gather k for v; or a
   * correct witness locked on v is never released because the others cannot see v's polka. Safe:
   * k votes for a value from distinct witnesses include at least k − f correct ones, whatever else
   * the faulty senders signed (the paper's quorum intersection).
   */
  readonly otherPrevotes?: Readonly<Record<string, VoteMessage>>
  readonly otherPrecommits?: Readonly<Record<string, VoteMessage>>
  /** The proposer's other proposal of this round: a decision may carry it (line 49). */
  readonly otherProposal?: ProposalMessage<V> | null
}

/** The state of one witness (`h_p`, `round_p`, `step_p`, locks, message log). JSON-serializable. */
export interface TendermintState<V> {
  readonly height: number
  readonly round: number
  readonly step: Step
  readonly lockedValue: V | null
  readonly lockedRound: number
  readonly validValue: V | null
  readonly validRound: number
  /** getValue(): the batch the environment currently offers for this height, if any yet. */
  readonly candidate: V | null
  /** True while this witness is the round's proposer but has no value to propose yet. */
  readonly awaitingValue: boolean
  /** "for the first time" guards of lines 34, 36 and 47 for `round`. */
  readonly prevoteTimeoutScheduled: boolean
  readonly precommitTimeoutScheduled: boolean
  readonly polkaSeen: boolean
  readonly rounds: Readonly<Record<string, RoundLog<V>>>
  /** Messages of height + 1, and of this height while it has not started, kept until it starts. */
  readonly nextHeight: readonly ConsensusMessage<V>[]
  /** Witnesses convicted (in the log, for every witness alike): their messages are ignored from then on. */
  readonly faulty: readonly string[]
}

export type TendermintEvent<V> =
  | { readonly kind: 'start-height'; readonly height: number }
  | { readonly kind: 'value'; readonly height: number; readonly value: V }
  | { readonly kind: 'message'; readonly message: ConsensusMessage<V> }
  | { readonly kind: 'timeout'; readonly timeout: TimeoutKind; readonly height: number; readonly round: number }
  | { readonly kind: 'faulty'; readonly witness: string }
  /**
   * The process restarted from a saved state: timeouts do not survive a process, so the ones the
   * state says are running are scheduled again. Without this a witness restored in the propose
   * step waits forever for a timeoutPropose, while the others wait for its prevote.
   */
  | { readonly kind: 'resume' }
  /** Data a value depends on arrived (see `isReady`): a proposal waiting for it is judged again. */
  | { readonly kind: 'data' }

export type TendermintAction<V> =
  | { readonly kind: 'broadcast'; readonly message: ConsensusMessage<V> }
  | { readonly kind: 'schedule-timeout'; readonly timeout: TimeoutKind; readonly height: number; readonly round: number; readonly ms: number }
  | {
      readonly kind: 'decide'
      readonly height: number
      readonly round: number
      readonly value: V
      readonly valueId: string
      /** The proposal that carried the value (with the precommits: a certificate anyone can check). */
      readonly proposal: ProposalMessage<V>
      /** The ≥ k precommits that decided it: the checkpoint's cosignatures. */
      readonly precommits: readonly VoteMessage[]
    }
  | { readonly kind: 'equivocation'; readonly first: ConsensusMessage<V>; readonly second: ConsensusMessage<V> }

export interface StepResult<V> {
  readonly state: TendermintState<V>
  readonly actions: readonly TendermintAction<V>[]
}

const DEFAULT_MAX_ROUNDS_AHEAD = 64
// Each rule moves the state forward (a step, a round or a height), so the fixpoint loop ends in a
// handful of iterations; the cap only guards against a bug turning into a hang.
const MAX_RULE_ITERATIONS = 10_000

/** Checks n, k: a quorum k must exceed 2n/3 (quorum intersection holds a correct witness) and be ≤ n. */
export function checkWitnessSet(witnesses: readonly string[], quorum: number): void {
  const n = witnesses.length
  if (n === 0) throw new InvalidWitnessSetError('no witnesses')
  if (new Set(witnesses).size !== n) throw new InvalidWitnessSetError('duplicate witness keys')
  if (!Number.isInteger(quorum) || quorum > n || 3 * quorum <= 2 * n) {
    throw new InvalidWitnessSetError(`threshold k=${quorum} must satisfy 2n/3 < k ≤ n for n=${n}`)
  }
}

/** f + 1 of the paper: the smallest number of witnesses that must include a correct one. */
export function roundSkipThreshold(n: number, quorum: number): number {
  return n - quorum + 1
}

/** proposer(h, r): rotates through the witness list by height and round. */
export function proposerOf(witnesses: readonly string[], height: number, round: number): string {
  return witnesses[(height + round) % witnesses.length] as string
}

/** The initial state at `height` (`new-height`: waiting for the start-height event). */
export function initialState<V>(height: number, faulty: readonly string[] = []): TendermintState<V> {
  return {
    height,
    round: 0,
    step: 'new-height',
    lockedValue: null,
    lockedRound: -1,
    validValue: null,
    validRound: -1,
    candidate: null,
    awaitingValue: false,
    prevoteTimeoutScheduled: false,
    precommitTimeoutScheduled: false,
    polkaSeen: false,
    rounds: {},
    nextHeight: [],
    faulty: [...faulty],
  }
}

interface MutableRoundLog<V> {
  proposal: ProposalMessage<V> | null
  prevotes: Record<string, VoteMessage>
  precommits: Record<string, VoteMessage>
  otherPrevotes: Record<string, VoteMessage>
  otherPrecommits: Record<string, VoteMessage>
  otherProposal: ProposalMessage<V> | null
}

type Mutable<V> = { -readonly [K in keyof TendermintState<V>]: TendermintState<V>[K] } & {
  rounds: Record<string, MutableRoundLog<V>>
  nextHeight: ConsensusMessage<V>[]
  faulty: string[]
}

function cloneState<V>(state: TendermintState<V>): Mutable<V> {
  const rounds: Record<string, MutableRoundLog<V>> = {}
  for (const [r, log] of Object.entries(state.rounds)) {
    rounds[r] = { proposal: log.proposal, prevotes: { ...log.prevotes }, precommits: { ...log.precommits }, otherPrevotes: { ...log.otherPrevotes }, otherPrecommits: { ...log.otherPrecommits }, otherProposal: log.otherProposal ?? null }
  }
  return { ...state, rounds, nextHeight: [...state.nextHeight], faulty: [...state.faulty] }
}

/** One transition of the machine. Never mutates `state`. */
export function stepTendermint<V>(config: TendermintConfig<V>, state: TendermintState<V>, event: TendermintEvent<V>): StepResult<V> {
  const machine = new Transition(config, cloneState(state))
  machine.handle(event)
  return { state: machine.s, actions: machine.actions }
}

/** The work of one `stepTendermint` call over a private copy of the state. */
class Transition<V> {
  readonly actions: TendermintAction<V>[] = []
  private readonly n: number
  private readonly me: string | null

  constructor(
    private readonly config: TendermintConfig<V>,
    readonly s: Mutable<V>,
  ) {
    this.n = config.witnesses.length
    this.me = config.keys === null ? null : bytesToHex(config.keys.publicKey)
    if (this.me !== null && !config.witnesses.includes(this.me)) this.me = null
  }

  handle(event: TendermintEvent<V>): void {
    switch (event.kind) {
      case 'start-height':
        if (event.height === this.s.height && this.s.step === 'new-height') {
          // Messages of this height wait for its start: the environment first applies what the
          // decided heights changed (a witness convicted in the log stops counting here, for all).
          const held = this.s.nextHeight
          this.s.nextHeight = held.filter((m) => m.height !== this.s.height)
          for (const message of held) if (message.height === this.s.height) this.record(message)
          this.startRound(0)
        }
        break
      case 'value':
        if (event.height === this.s.height) {
          this.s.candidate = event.value
          if (this.s.awaitingValue && this.s.step === 'propose') this.propose()
        }
        break
      case 'message':
        if (!this.accept(event.message)) return
        break
      case 'timeout':
        this.onTimeout(event.timeout, event.height, event.round)
        break
      case 'faulty':
        this.markFaulty(event.witness)
        break
      case 'resume':
        this.rearmTimeouts()
        break
      case 'data':
        break
    }
    this.runRules()
  }

  // ---- message log ----

  private accept(message: ConsensusMessage<V>): boolean {
    const s = this.s
    if (message.network !== this.config.network) return false
    if (!this.config.witnesses.includes(message.sender) || s.faulty.includes(message.sender)) return false
    if (message.height < s.height || message.height > s.height + 1) return false
    if (message.type === 'proposal' && message.sender !== proposerOf(this.config.witnesses, message.height, message.round)) return false
    const ahead = this.config.maxRoundsAhead ?? DEFAULT_MAX_ROUNDS_AHEAD
    if (message.round > s.round + ahead) return false
    if (!verifyConsensusMessage(message)) return false
    if (message.height === s.height + 1 || s.step === 'new-height') {
      if (s.nextHeight.length < 6 * this.n * (ahead + 1) && !s.nextHeight.some((m) => m.sig === message.sig)) {
        s.nextHeight.push(message)
      }
      return true
    }
    return this.record(message)
  }

  /** Adds a verified message of the current height; a conflicting second message is equivocation. */
  private record(message: ConsensusMessage<V>): boolean {
    const log = this.roundLog(message.round)
    if (message.type === 'proposal') {
      if (log.proposal === null) {
        log.proposal = message
        return true
      }
      if (log.proposal.sig === message.sig || log.otherProposal?.sig === message.sig) return false
      this.actions.push({ kind: 'equivocation', first: log.proposal, second: message })
      // One slot; a proposal with more precommits behind it takes it over (a decision's certificate
      // is re-gossiped, so its precommits arrive again after its proposal).
      const other = log.otherProposal
      const support = (m: ProposalMessage<V>): number => this.votesFor(log, 'precommit', this.config.valueId(m.value)).length
      if (other === null || support(message) > support(other)) {
        log.otherProposal = message
        return true
      }
      return false
    }
    const votes = message.type === 'prevote' ? log.prevotes : log.precommits
    const existing = votes[message.sender]
    if (existing === undefined) {
      votes[message.sender] = message
      return true
    }
    if (existing.sig === message.sig) return false
    this.actions.push({ kind: 'equivocation', first: existing, second: message })
    // One slot per sender and type; a vote for a value more others back takes it over junk sent
    // to fill it (re-gossip brings the votes that matter again).
    const others = message.type === 'prevote' ? log.otherPrevotes : log.otherPrecommits
    const other = others[message.sender]
    if (other?.sig === message.sig) return false
    const support = (id: string | null): number => this.votesFor(log, message.type, id).filter((v) => v.sender !== message.sender).length
    if (other === undefined || support(message.valueId) > support(other.valueId)) {
      others[message.sender] = message
      return true
    }
    return false
  }

  /** The round's votes of `type` for `valueId` (null: nil), one per sender, equivocators' other votes included. */
  private votesFor(log: RoundLog<V>, type: VoteType, valueId: string | null): VoteMessage[] {
    const first = type === 'prevote' ? log.prevotes : log.precommits
    const out = Object.values(first).filter((v) => v.valueId === valueId)
    for (const o of Object.values((type === 'prevote' ? log.otherPrevotes : log.otherPrecommits) ?? {})) {
      if (o.valueId === valueId && first[o.sender]?.valueId !== valueId) out.push(o)
    }
    return out
  }

  private roundLog(round: number): MutableRoundLog<V> {
    const key = String(round)
    let log = this.s.rounds[key]
    if (log === undefined) {
      log = { proposal: null, prevotes: {}, precommits: {}, otherPrevotes: {}, otherPrecommits: {}, otherProposal: null }
      this.s.rounds[key] = log
    }
    return log
  }

  private markFaulty(witness: string): void {
    const s = this.s
    if (s.faulty.includes(witness)) return
    s.faulty.push(witness)
    // Dropping a proven equivocator's votes can only make quorums harder to reach: never unsafe.
    for (const log of Object.values(s.rounds)) {
      if (log.proposal?.sender === witness) log.proposal = null
      if (log.otherProposal?.sender === witness) log.otherProposal = null
      delete log.prevotes[witness]
      delete log.precommits[witness]
      delete log.otherPrevotes[witness]
      delete log.otherPrecommits[witness]
    }
    s.nextHeight = s.nextHeight.filter((m) => m.sender !== witness)
  }

  // ---- outgoing ----

  private broadcast(unsigned: Record<string, unknown>): void {
    if (this.config.keys === null || this.me === null) return
    const message = signConsensusMessage<V>(
      { network: this.config.network, height: this.s.height, round: this.s.round, ...unsigned } as never,
      this.config.keys,
    )
    this.record(message)
    this.actions.push({ kind: 'broadcast', message })
  }

  private vote(type: VoteType, value: V | null): void {
    const fields: Record<string, unknown> = { type, valueId: value === null ? null : this.config.valueId(value) }
    if (type === 'precommit' && value !== null && this.config.extendPrecommit !== undefined) {
      fields.extension = this.config.extendPrecommit(value, this.s.height)
    }
    this.broadcast(fields)
  }

  private schedule(timeout: TimeoutKind): void {
    const t = this.config.timeouts
    const ms = t[timeout] + this.s.round * t.delta
    this.actions.push({ kind: 'schedule-timeout', timeout, height: this.s.height, round: this.s.round, ms })
  }

  // ---- Algorithm 1 ----

  /** StartRound(round), lines 11–21. */
  private startRound(round: number): void {
    const s = this.s
    s.round = round
    s.step = 'propose'
    s.prevoteTimeoutScheduled = false
    s.precommitTimeoutScheduled = false
    s.polkaSeen = false
    s.awaitingValue = false
    for (const key of Object.keys(s.rounds)) if (Number(key) < round && !this.mayStillDecide(Number(key))) delete s.rounds[key]
    if (this.me !== null && proposerOf(this.config.witnesses, s.height, round) === this.me) {
      // As in the paper the proposer schedules no timeoutPropose: if it has no value yet it waits for
      // one (the epoch sets may still be in flight); the others' timeouts and the f+1 rule (line 55)
      // move it on if the round fails without it.
      this.propose()
    } else {
      this.schedule('propose')
    }
  }

  /** Rounds before the current one are kept only while they can still matter (lines 28, 49). */
  private mayStillDecide(round: number): boolean {
    const log = this.s.rounds[String(round)]
    return log !== undefined && (log.proposal !== null || Object.keys(log.precommits).length > 0 || Object.keys(log.prevotes).length > 0)
  }

  /** Lines 14–19: propose validValue if any, else getValue() (the environment's candidate). */
  private propose(): void {
    const s = this.s
    if (s.validValue !== null) {
      s.awaitingValue = false
      this.broadcast({ type: 'proposal', value: s.validValue, validRound: s.validRound })
    } else if (s.candidate !== null) {
      s.awaitingValue = false
      this.broadcast({ type: 'proposal', value: s.candidate, validRound: -1 })
    } else {
      s.awaitingValue = true
    }
  }

  /**
   * The timeouts running in this state (see the `resume` event): timeoutPropose in the propose
   * step unless we are the proposer (StartRound, line 21), and the prevote/precommit timeouts
   * whose "first time" guards (lines 34, 47) were already passed. Re-scheduling a timeout is always
   * safe: it only acts if the machine is still at that height, round and step.
   */
  private rearmTimeouts(): void {
    const s = this.s
    if (s.step === 'new-height') return
    if (s.step === 'propose' && !(this.me !== null && proposerOf(this.config.witnesses, s.height, s.round) === this.me)) this.schedule('propose')
    if (s.step === 'prevote' && s.prevoteTimeoutScheduled) this.schedule('prevote')
    if (s.precommitTimeoutScheduled) this.schedule('precommit')
  }

  private onTimeout(kind: TimeoutKind, height: number, round: number): void {
    const s = this.s
    if (height !== s.height || round !== s.round) return
    if (kind === 'propose' && s.step === 'propose') {
      // OnTimeoutPropose, lines 57–60.
      s.awaitingValue = false
      this.vote('prevote', null)
      s.step = 'prevote'
    } else if (kind === 'prevote' && s.step === 'prevote') {
      // OnTimeoutPrevote, lines 61–64.
      this.vote('precommit', null)
      s.step = 'precommit'
    } else if (kind === 'precommit' && s.step !== 'new-height') {
      // OnTimeoutPrecommit, lines 65–67.
      this.startRound(s.round + 1)
    }
  }

  private runRules(): void {
    for (let i = 0; i < MAX_RULE_ITERATIONS; i++) {
      if (!this.applyOneRule()) return
    }
    throw new Error('tendermint: rules did not reach a fixpoint')
  }

  /** Applies the first rule whose condition holds; false when none does. */
  private applyOneRule(): boolean {
    if (this.tryDecide()) return true
    if (this.s.step === 'new-height') return false
    return (
      this.onProposal() ||
      this.onPolkaAny() ||
      this.onPolkaForValue() ||
      this.onPolkaNil() ||
      this.onPrecommitAny() ||
      this.onRoundSkip()
    )
  }

  private proposalOf(round: number): ProposalMessage<V> | null {
    return this.s.rounds[String(round)]?.proposal ?? null
  }

  private countVotes(round: number, type: VoteType, valueId: string | null | undefined): number {
    const log = this.s.rounds[String(round)]
    if (log === undefined) return 0
    if (valueId !== undefined) return this.votesFor(log, type, valueId).length
    return Object.keys(type === 'prevote' ? log.prevotes : log.precommits).length
  }

  private sameValue(a: V | null, b: V): boolean {
    return a !== null && this.config.valueId(a) === this.config.valueId(b)
  }

  /** Lines 22–27 and 28–33: the round's proposal moves propose → prevote. */
  private onProposal(): boolean {
    const s = this.s
    if (s.step !== 'propose') return false
    const proposal = this.proposalOf(s.round)
    if (proposal === null) return false
    const v = proposal.value
    const vr = proposal.validRound
    if (vr === -1) {
      const free = s.lockedRound === -1 || this.sameValue(s.lockedValue, v)
      // Locked on another value, the answer is nil whatever the data says: no need to wait for it.
      // Nor does the proposer wait on its own value: it has no timeoutPropose to end the wait, and
      // lacking the data for it (e.g. restored after a restart) it cannot vouch for it anyway.
      const valid = free && this.config.isValid(v, s.height)
      if (valid && proposal.sender !== this.me && !(this.config.isReady?.(v, s.height) ?? true)) return false
      this.vote('prevote', valid && (this.config.isAcceptable?.(v, s.height) ?? true) ? v : null)
    } else {
      if (!(vr >= 0 && vr < s.round)) return false
      if (this.countVotes(vr, 'prevote', this.config.valueId(v)) < this.config.quorum) return false
      const free = s.lockedRound <= vr || this.sameValue(s.lockedValue, v)
      this.vote('prevote', this.config.isValid(v, s.height) && free ? v : null)
    }
    s.awaitingValue = false
    s.step = 'prevote'
    return true
  }

  /** Lines 34–35: 2f+1 prevotes of any kind → schedule timeoutPrevote (once per round). */
  private onPolkaAny(): boolean {
    const s = this.s
    if (s.step !== 'prevote' || s.prevoteTimeoutScheduled) return false
    if (this.countVotes(s.round, 'prevote', undefined) < this.config.quorum) return false
    s.prevoteTimeoutScheduled = true
    this.schedule('prevote')
    return true
  }

  /** Lines 36–43: proposal + 2f+1 prevotes for it → lock and precommit (if still prevoting), set validValue. */
  private onPolkaForValue(): boolean {
    const s = this.s
    if (s.polkaSeen || (s.step !== 'prevote' && s.step !== 'precommit')) return false
    const proposal = this.proposalOf(s.round)
    if (proposal === null) return false
    const v = proposal.value
    if (this.countVotes(s.round, 'prevote', this.config.valueId(v)) < this.config.quorum) return false
    if (!this.config.isValid(v, s.height)) return false
    s.polkaSeen = true
    if (s.step === 'prevote') {
      s.lockedValue = v
      s.lockedRound = s.round
      this.vote('precommit', v)
      s.step = 'precommit'
    }
    s.validValue = v
    s.validRound = s.round
    return true
  }

  /** Lines 44–46: 2f+1 nil prevotes → precommit nil. */
  private onPolkaNil(): boolean {
    const s = this.s
    if (s.step !== 'prevote') return false
    if (this.countVotes(s.round, 'prevote', null) < this.config.quorum) return false
    this.vote('precommit', null)
    s.step = 'precommit'
    return true
  }

  /** Lines 47–48: 2f+1 precommits of any kind → schedule timeoutPrecommit (once per round). */
  private onPrecommitAny(): boolean {
    const s = this.s
    if (s.precommitTimeoutScheduled) return false
    if (this.countVotes(s.round, 'precommit', undefined) < this.config.quorum) return false
    s.precommitTimeoutScheduled = true
    this.schedule('precommit')
    return true
  }

  /** Lines 55–56: f+1 witnesses already in a higher round → jump to it. */
  private onRoundSkip(): boolean {
    const s = this.s
    const threshold = roundSkipThreshold(this.n, this.config.quorum)
    let target = -1
    for (const [key, log] of Object.entries(s.rounds)) {
      const r = Number(key)
      if (r <= s.round || r <= target) continue
      const senders = new Set<string>([...Object.keys(log.prevotes), ...Object.keys(log.precommits)])
      if (log.proposal !== null) senders.add(log.proposal.sender)
      if (senders.size >= threshold) target = r
    }
    if (target < 0) return false
    this.startRound(target)
    return true
  }

  /** Lines 49–54: a proposal of any round + 2f+1 precommits for it → decide, then the next height. */
  private tryDecide(): boolean {
    const s = this.s
    const rounds = Object.keys(s.rounds)
      .map(Number)
      .sort((a, b) => a - b)
    for (const r of rounds) {
      const log = s.rounds[String(r)] as MutableRoundLog<V>
      for (const proposal of [log.proposal, log.otherProposal]) {
        if (proposal !== null && this.decideWith(r, log, proposal)) return true
      }
    }
    return false
  }

  /** Line 49 for one proposal of round `r`: k precommits for its value (with valid extensions) → decide. */
  private decideWith(r: number, log: MutableRoundLog<V>, proposal: ProposalMessage<V>): boolean {
    const s = this.s
    const v = proposal.value
    const id = this.config.valueId(v)
    let precommits = this.votesFor(log, 'precommit', id)
    if (precommits.length < this.config.quorum) return false
    const verify = this.config.verifyExtension
    if (verify !== undefined) {
      precommits = precommits.filter((p) => p.extension !== undefined && verify(v, s.height, p.sender, p.extension))
      if (precommits.length < this.config.quorum) return false
    }
    if (!this.config.isValid(v, s.height)) return false
    precommits.sort((a, b) => this.config.witnesses.indexOf(a.sender) - this.config.witnesses.indexOf(b.sender))
    this.actions.push({ kind: 'decide', height: s.height, round: r, value: v, valueId: id, proposal, precommits })
    this.enterNextHeight()
    return true
  }

  /** Line 54: reset locks and the message log; messages already received for the new height wait for its start. */
  private enterNextHeight(): void {
    const buffered = this.s.nextHeight
    const fresh = initialState<V>(this.s.height + 1, this.s.faulty)
    Object.assign(this.s, cloneState(fresh))
    this.s.nextHeight = [...buffered]
  }
}
