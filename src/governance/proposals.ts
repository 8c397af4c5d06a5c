import { scheduleProposal } from './clock.js'
import { inElectorate, isActiveMember } from './membership.js'
import { PARAMS, isParamName, paramViolation } from './params.js'
import { modelManifestSchema } from '../models/manifest.js'
import { reject } from './rejections.js'
import { validWitnessThreshold } from './witnesses.js'
import type { ProposalAction, ProposalType, ProposeBody, VoteBody } from './bodies.js'
import type { FinalEntry, GovState, ProposalRules } from './types.js'

/** Proposal types that change who decides or who finalizes: they need a 2/3 supermajority. */
const SUPERMAJORITY_TYPES: ReadonlySet<ProposalType> = new Set(['amend-constitution', 'set-witnesses', 'expel-member'])

/** Whether `action` needs the supermajority (2/3 class) rather than a simple majority. */
export function needsSupermajority(action: ProposalAction): boolean {
  if (SUPERMAJORITY_TYPES.has(action.type)) return true
  return action.type === 'set-parameter' && isParamName(action.name) && PARAMS[action.name].supermajority
}

/** Rejects an action that could never take effect as proposed. */
function checkAction(state: GovState, author: string, action: ProposalAction): void {
  switch (action.type) {
    case 'admit-model': {
      // The full provenance schema of the models layer: no admission without it.
      const manifest = modelManifestSchema.safeParse(action.manifest)
      if (!manifest.success) {
        const issue = manifest.error.issues[0]
        reject('bad_action', `manifest ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
      }
      if (state.models[action.manifest.file.sha256]?.status === 'servable') reject('bad_action', 'the model is already servable')
      return
    }
    case 'retire-model':
      if (state.models[action.sha256]?.status !== 'servable') reject('bad_action', 'no servable model has this sha256')
      return
    case 'set-parameter': {
      const why = paramViolation(action.name, action.value)
      if (why !== null) reject('bad_action', why)
      return
    }
    case 'set-witnesses': {
      const unique = new Set(action.witnesses)
      if (unique.size !== action.witnesses.length) reject('bad_action', 'duplicate witness')
      if (!validWitnessThreshold(unique.size, action.threshold)) {
        reject('bad_action', `threshold ${action.threshold} of ${unique.size} witnesses must be > 2n/3 and ≤ n`)
      }
      return
    }
    case 'amend-constitution':
      return
    case 'expel-member':
      if (action.member === author) reject('bad_action', 'to leave, use member-leave')
      if (!isActiveMember(state, action.member)) reject('bad_action', `${action.member} is not an active member`)
      return
  }
}

/**
 * `propose`: an active member opens a proposal. Its id is the entry's log index. The electorate
 * (active members now) and all the rules (delays, quorum, threshold, delegate cap) are frozen here.
 */
export function applyPropose(state: GovState, fe: FinalEntry, body: ProposeBody): void {
  const author = fe.entry.author
  if (!isActiveMember(state, author)) reject('not_a_member', `${author} is not an active member`)
  let open = 0
  for (const id of state.open) if (state.proposals[id]!.proposer === author) open++
  if (open >= state.params.maxOpenProposalsPerMember) reject('too_many_open_proposals', `${open} proposals already open`)
  checkAction(state, author, body.action)

  const p = state.params
  const supermajority = needsSupermajority(body.action)
  const rules: ProposalRules = {
    discussionDelayMs: p.discussionDelayMs,
    votingPeriodMs: p.votingPeriodMs,
    timelockMs: p.timelockMs,
    quorumBps: p.quorumBps,
    thresholdBps: supermajority ? p.supermajorityBps : p.majorityBps,
    supermajority,
    maxDelegateShareBps: p.maxDelegateShareBps,
  }
  const votingStartsAt = state.time + rules.discussionDelayMs
  state.proposals[fe.index] = {
    id: fe.index,
    type: body.action.type,
    proposer: author,
    title: body.title,
    rationale: body.rationale,
    action: body.action,
    status: rules.discussionDelayMs === 0 ? 'voting' : 'pending',
    rules,
    createdAt: state.time,
    votingStartsAt,
    votingEndsAt: votingStartsAt + rules.votingPeriodMs,
    effectiveAt: null,
    electorate: state.activeMembers,
    votes: {},
    tally: null,
    executedAt: null,
    outcome: null,
  }
  state.open.push(fe.index)
  state.open.sort((a, b) => a - b)
  scheduleProposal(state, state.proposals[fe.index]!)
}

/**
 * `vote`: one member, one vote (yes/no/abstain), replaceable until the deadline. Refused when the
 * proposal is not in its voting window (by final checkpoint time), when the author is not an
 * active member, or not in the electorate frozen at the proposal's creation.
 */
export function applyVote(state: GovState, fe: FinalEntry, body: VoteBody): void {
  const author = fe.entry.author
  if (!isActiveMember(state, author)) reject('not_a_member', `${author} is not an active member`)
  const proposal = state.proposals[body.proposal]
  if (proposal === undefined) reject('unknown_proposal', `no proposal ${body.proposal}`)
  if (proposal.status === 'pending') reject('voting_not_open', `voting opens at ${proposal.votingStartsAt}`)
  if (proposal.status !== 'voting' || state.time > proposal.votingEndsAt) {
    reject('voting_closed', `voting closed at ${proposal.votingEndsAt}`)
  }
  if (!inElectorate(state, proposal, author)) {
    reject('not_in_electorate', `${author} was not a member when proposal ${proposal.id} was created`)
  }
  const previous = proposal.votes[author]
  if (previous !== undefined && previous.seq > fe.entry.seq) {
    reject('superseded', `vote ${previous.index} (seq ${previous.seq}) is the author's later vote`)
  }
  proposal.votes[author] = { choice: body.choice, index: fe.index, seq: fe.entry.seq }
}
