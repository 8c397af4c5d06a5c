import { delegateCap, inElectorate } from './membership.js'
import type { GovState, Proposal, RefusedVote, Tally } from './types.js'

/**
 * Counts a proposal at its deadline, against the state as it stands then.
 *
 * - Only members of the frozen electorate who are still active at the deadline count
 *   (leaving or being expelled forfeits votes on open proposals); see `Proposal.electorate`.
 * - A direct vote counts as cast. A member who did not vote, and whose delegation (as it stands at
 *   the deadline) points to a member who voted directly, counts with the delegate's choice:
 *   one hop only, because a delegate's own delegation is never followed.
 * - A delegate carries at most ⌊maxDelegateShare × electorate⌋ delegated votes; delegators beyond
 *   the cap, in order of their delegation's log index, are refused with reason `delegate_cap`.
 * - Quorum: (yes + no + abstain) × 10000 ≥ quorumBps × electorate.
 * - Pass: simple majority yes × 10000 > thresholdBps × (yes + no);
 *   supermajority yes × 10000 ≥ thresholdBps × (yes + no); and at least one yes.
 */
export function tallyProposal(state: GovState, proposal: Proposal): Tally {
  let yes = 0
  let no = 0
  let abstain = 0
  let delegated = 0
  const count = (choice: 'yes' | 'no' | 'abstain'): void => {
    if (choice === 'yes') yes++
    else if (choice === 'no') no++
    else abstain++
  }
  // Direct votes: their authors were checked when they voted; they must still be eligible now.
  for (const [member, vote] of Object.entries(proposal.votes)) if (inElectorate(state, proposal, member)) count(vote.choice)
  // Delegated votes of eligible members who did not vote, through a delegate who voted directly.
  const byDelegate = new Map<string, Array<{ member: string; index: number }>>()
  for (const [member, delegation] of Object.entries(state.delegations)) {
    if (proposal.votes[member] !== undefined || !inElectorate(state, proposal, member)) continue
    if (proposal.votes[delegation.to] === undefined || !inElectorate(state, proposal, delegation.to)) continue
    let list = byDelegate.get(delegation.to)
    if (list === undefined) byDelegate.set(delegation.to, (list = []))
    list.push({ member, index: delegation.index })
  }
  const cap = delegateCap(proposal.rules.maxDelegateShareBps, proposal.electorate)
  const refused: RefusedVote[] = []
  for (const delegate of [...byDelegate.keys()].sort()) {
    const delegators = byDelegate.get(delegate)!.sort((a, b) => a.index - b.index)
    const choice = proposal.votes[delegate]!.choice
    delegators.forEach((d, i) => {
      if (i < cap) {
        count(choice)
        delegated++
      } else {
        refused.push({ member: d.member, delegate, reason: 'delegate_cap' })
      }
    })
  }
  refused.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
  const electorate = proposal.electorate
  const quorumMet = (yes + no + abstain) * 10_000 >= proposal.rules.quorumBps * electorate
  const decided = yes + no
  const thresholdMet = proposal.rules.supermajority
    ? yes * 10_000 >= proposal.rules.thresholdBps * decided
    : yes * 10_000 > proposal.rules.thresholdBps * decided
  return { yes, no, abstain, delegated, electorate, quorumMet, passed: quorumMet && yes > 0 && thresholdMet, refused }
}
