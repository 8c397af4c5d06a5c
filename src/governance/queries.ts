import { GovernanceNotFoundError } from './errors.js'
import { tallyProposal } from './tally.js'
import type { GovState, ModelRecord, Proposal, Tally } from './types.js'

/**
 * Read-only views of the state for the API, the CLI, the scheduler and auditors. Each decision
 * view carries the log indexes of the entries behind it (the `propose` entry = the proposal id,
 * every counted vote), so "why is this model served?" is answered down to signed entries.
 */

export interface ServableModel {
  readonly sha256: string
  readonly name: string
  readonly manifest: ModelRecord['manifest']
  /** Proposal id (log index of its `propose` entry) that admitted it; null = genesis. */
  readonly admittedBy: number | null
  readonly admittedAt: number
}

/** Models workers may serve and the scheduler may route to, sorted by name then hash. */
export function servableModels(state: GovState): ServableModel[] {
  const out: ServableModel[] = []
  for (const [sha256, m] of Object.entries(state.models)) {
    if (m.status !== 'servable') continue
    out.push({ sha256, name: m.manifest.name, manifest: m.manifest, admittedBy: m.admittedBy, admittedAt: m.admittedAt })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.sha256 < b.sha256 ? -1 : 1))
}

/** True when the model with this file hash is admitted and not retired. */
export function isServable(state: GovState, sha256: string): boolean {
  return state.models[sha256]?.status === 'servable'
}

export interface DecisionTrail {
  readonly proposal: number
  readonly title: string
  readonly proposer: string
  readonly status: Proposal['status']
  readonly tally: Proposal['tally']
  /** Direct votes with the log index of each vote entry, sorted by member. */
  readonly votes: ReadonlyArray<{ member: string; choice: string; index: number }>
  readonly effectiveAt: number | null
  readonly executedAt: number | null
  readonly outcome: string | null
}

/** The audit trail of one proposal. */
export function decisionTrail(state: GovState, id: number): DecisionTrail {
  const p = state.proposals[id]
  if (p === undefined) throw new GovernanceNotFoundError(`proposal ${id}`)
  const votes = Object.entries(p.votes)
    .map(([member, v]) => ({ member, choice: v.choice, index: v.index }))
    .sort((a, b) => (a.member < b.member ? -1 : 1))
  return {
    proposal: p.id,
    title: p.title,
    proposer: p.proposer,
    status: p.status,
    tally: p.tally,
    votes,
    effectiveAt: p.effectiveAt,
    executedAt: p.executedAt,
    outcome: p.outcome,
  }
}

export interface ModelExplanation {
  readonly sha256: string
  readonly record: ModelRecord
  /** null when the model was listed in the genesis. */
  readonly admission: DecisionTrail | null
  readonly retirement: DecisionTrail | null
}

/** "Why is this model served?": its record and the decisions (with entry indexes) behind it. */
export function explainModel(state: GovState, sha256: string): ModelExplanation {
  const record = state.models[sha256]
  if (record === undefined) throw new GovernanceNotFoundError(`model ${sha256}`)
  return {
    sha256,
    record,
    admission: record.admittedBy === null ? null : decisionTrail(state, record.admittedBy),
    retirement: record.retiredBy === null ? null : decisionTrail(state, record.retiredBy),
  }
}

export interface MemberView {
  readonly id: string
  readonly status: string
  readonly since: number
  readonly admittedAt: number | null
  readonly vouchedBy: ReadonlyArray<{ voucher: string; index: number }>
  readonly delegatesTo: string | null
  readonly delegators: number
}

/** Every member ever admitted (active first, then by id). */
export function listMembers(state: GovState): MemberView[] {
  return Object.entries(state.members)
    .map(([id, m]) => ({
      id,
      status: m.status,
      since: m.since,
      admittedAt: m.admittedAt,
      vouchedBy: m.vouchedBy,
      delegatesTo: state.delegations[id]?.to ?? null,
      delegators: state.carried[id] ?? 0,
    }))
    .sort((a, b) => (a.status === b.status ? (a.id < b.id ? -1 : 1) : a.status === 'active' ? -1 : b.status === 'active' ? 1 : a.status < b.status ? -1 : 1))
}

export interface ProposalView {
  readonly id: number
  readonly type: Proposal['type']
  readonly title: string
  readonly proposer: string
  readonly status: Proposal['status']
  readonly createdAt: number
  readonly votingStartsAt: number
  readonly votingEndsAt: number
  readonly effectiveAt: number | null
  /** Direct votes cast. */
  readonly votes: number
  readonly electorate: number
  /** The final tally once closed; while pending/voting, the tally if the vote closed now. */
  readonly tally: Tally
  /** True while `tally` is provisional. */
  readonly provisional: boolean
  readonly quorumBps: number
  readonly thresholdBps: number
  readonly supermajority: boolean
  /** Log indexes of the entries behind it: the `propose` entry, then the votes in force. */
  readonly entries: number[]
}

/** Proposals, newest first; `status` filters. */
export function listProposals(state: GovState, status?: Proposal['status']): ProposalView[] {
  return Object.values(state.proposals)
    .filter((p) => status === undefined || p.status === status)
    .sort((a, b) => b.id - a.id)
    .map((p) => ({
      id: p.id,
      type: p.type,
      title: p.title,
      proposer: p.proposer,
      status: p.status,
      createdAt: p.createdAt,
      votingStartsAt: p.votingStartsAt,
      votingEndsAt: p.votingEndsAt,
      effectiveAt: p.effectiveAt,
      votes: Object.keys(p.votes).length,
      electorate: p.electorate,
      tally: p.tally ?? tallyProposal(state, p),
      provisional: p.tally === null,
      quorumBps: p.rules.quorumBps,
      thresholdBps: p.rules.thresholdBps,
      supermajority: p.rules.supermajority,
      entries: [p.id, ...Object.values(p.votes).map((v) => v.index).sort((a, b) => a - b)],
    }))
}

export function getProposal(state: GovState, id: number): Proposal {
  const p = state.proposals[id]
  if (p === undefined) throw new GovernanceNotFoundError(`proposal ${id}`)
  return p
}
