import type { ModelManifest, ProposalAction, ProposalType, VoteChoice } from './bodies.js'
import type { GovParams } from './params.js'
import type { RejectionReason } from './rejections.js'
import type { SeqRanges } from './seqs.js'

/**
 * The governance state: plain JSON data, so its RFC 8785 canonical form is its identity
 * (`stateRoot`). Rules that keep it canonical: no `undefined` (absent = `null`), integers only,
 * arrays that are sets are kept sorted, records are keyed by ids (canonical JSON sorts keys).
 * Code never depends on the iteration order of a record (a restored snapshot has sorted keys,
 * a replayed one has insertion order): it sorts first where order matters.
 */

/** A log entry as the reducer sees it (the ledger's `Entry`; validated by the ledger before it was final). */
export interface LogEntry {
  readonly v: 1
  /** Hex sha256 of the genesis's canonical JSON. */
  readonly network: string
  readonly kind: string
  /** Hex raw Ed25519 public key of the author (= node id). */
  readonly author: string
  /** Per-author sequence number, strictly increasing. */
  readonly seq: number
  /** The author's claimed time: ignored by governance (time comes only from final checkpoints). */
  readonly time: number
  readonly body: unknown
  readonly sig: string
}

/**
 * An entry of the final log: the entry, its index in the log, and the time of the first final
 * checkpoint that included it (k-of-n witness cosigned). The reducer consumes the final log in
 * index order and nothing else.
 */
export interface FinalEntry {
  readonly entry: LogEntry
  readonly index: number
  readonly time: number
}

export type MemberStatus = 'active' | 'left' | 'expelled'

export interface Member {
  status: MemberStatus
  /** Time the member joined (genesis time for genesis members). */
  since: number
  /** Log index of the vouch that completed the admission; null for genesis members. */
  admittedAt: number | null
  /** Who vouched, with the index of each vouch entry, sorted by voucher id. */
  vouchedBy: Array<{ voucher: string; index: number }>
  /** Log index of the `member-leave` entry, or proposal id of the expulsion. */
  leftAt: number | null
  expelledBy: number | null
}

export interface Candidate {
  /** Vouches so far, sorted by voucher id. */
  vouches: Array<{ voucher: string; index: number }>
}

/** Per-voucher rate and penalty bookkeeping. */
export interface VoucherRecord {
  /** Admission period the count belongs to. */
  period: number
  count: number
  /** Vouching is refused while time < penaltyUntil. */
  penaltyUntil: number
  /** Proposal id of the expulsion that caused the penalty. */
  penaltyCause: number | null
}

export interface Delegation {
  to: string
  /** Log index of the `delegate` entry. */
  index: number
}

/** The author's latest `delegate` entry applied (delegation or revocation), by seq. */
export interface DelegationMark {
  seq: number
  index: number
}

/**
 * Proposal lifecycle:
 *   pending  --(votingStartsAt)-->  voting   (skipped when the discussion delay is 0)
 *   voting   --(after votingEndsAt: tally)--> passed | failed
 *   passed   --(effectiveAt: first epoch start after the timelock)--> executed
 * `failed` and `executed` are final.
 */
export type ProposalStatus = 'pending' | 'voting' | 'passed' | 'failed' | 'executed'

/** The rules a proposal runs under, frozen when it is created (later parameter changes do not touch it). */
export interface ProposalRules {
  discussionDelayMs: number
  votingPeriodMs: number
  timelockMs: number
  quorumBps: number
  /** Pass threshold in basis points of yes+no. */
  thresholdBps: number
  /** true: yes ≥ threshold (2/3 class); false: yes > threshold (simple majority). */
  supermajority: boolean
  maxDelegateShareBps: number
}

export interface CastVote {
  choice: VoteChoice
  /** Log index of the vote entry in force: votes can be changed until the deadline. */
  index: number
  /** Its seq: the vote with the higher seq is the author's latest word, whatever the log order. */
  seq: number
}

export interface RefusedVote {
  member: string
  delegate: string
  reason: 'delegate_cap'
}

export interface Tally {
  yes: number
  no: number
  abstain: number
  /** Of the counted votes, how many were cast through a delegate. */
  delegated: number
  electorate: number
  quorumMet: boolean
  passed: boolean
  /** Delegated votes over the cap, not counted, with the reason. */
  refused: RefusedVote[]
}

export interface Proposal {
  /** The log index of the `propose` entry. */
  id: number
  type: ProposalType
  proposer: string
  title: string
  rationale: string
  action: ProposalAction
  status: ProposalStatus
  rules: ProposalRules
  createdAt: number
  votingStartsAt: number
  /** Votes whose final checkpoint time is ≤ votingEndsAt count; later ones are refused. */
  votingEndsAt: number
  /** Set when it passes: first epoch start at or after votingEndsAt + timelock. */
  effectiveAt: number | null
  /**
   * Size of the electorate: the active members when the proposal was created. Who may vote is not
   * stored as a list (it would repeat the membership in every proposal): a member may vote when it
   * is active and its current membership began before the proposal (genesis, or `admittedAt` <
   * proposal id): members admitted later, or who left and came back since, cannot.
   */
  electorate: number
  votes: Record<string, CastVote>
  tally: Tally | null
  executedAt: number | null
  /** What execution did ('applied' or why it changed nothing). */
  outcome: string | null
}

export type ModelStatus = 'servable' | 'retired'

export interface ModelRecord {
  manifest: ModelManifest
  status: ModelStatus
  /** Proposal id that admitted it; null when listed in the genesis. */
  admittedBy: number | null
  admittedAt: number
  retiredBy: number | null
  retiredAt: number | null
}

export interface WitnessSet {
  witnesses: string[]
  threshold: number
  /** Proposal id that set it; null for the genesis set. */
  setBy: number | null
  since: number
}

export interface Constitution {
  text: string
  sha256: string
  amendedBy: number | null
  since: number
}

export interface ParamChange {
  name: string
  value: number
  proposal: number
  at: number
}

export interface Rejection {
  index: number
  kind: string
  author: string
  reason: RejectionReason
  detail: string
}

export interface GovState {
  v: 1
  /** Hex sha256 of the genesis (= `network` of every entry). */
  network: string
  genesisTime: number
  epochMs: number
  /** Time of the latest final checkpoint applied. */
  time: number
  /** Index of the latest final entry applied; -1 before the first. */
  lastIndex: number
  params: GovParams
  paramHistory: ParamChange[]
  constitution: Constitution
  witnesses: WitnessSet
  members: Record<string, Member>
  /** Number of active members (kept with `members`). */
  activeMembers: number
  candidates: Record<string, Candidate>
  vouchers: Record<string, VoucherRecord>
  delegations: Record<string, Delegation>
  /** Delegations each delegate carries now (kept with `delegations`). */
  carried: Record<string, number>
  /** Latest delegate/revoke entry per author (so an older one finalized later cannot undo it). */
  delegationMarks: Record<string, DelegationMark>
  proposals: Record<string, Proposal>
  /** Ids of proposals that are pending, voting or passed, ascending. */
  open: number[]
  models: Record<string, ModelRecord>
  /** Seqs of every author seen in the final log (replay guard; see `seqs.ts`). */
  seqs: Record<string, SeqRanges>
  rejections: Rejection[]
}
