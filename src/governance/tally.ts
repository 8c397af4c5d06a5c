import type { GovState, Proposal, RefusedVote, Tally } from './types.js'

/** Index of `id` in a sorted array of ids, or -1. */
export function sortedIncludes(sorted: readonly string[], id: string): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = sorted[mid]!
    if (v === id) return true
    if (v < id) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** Most delegated votes one delegate may carry on a proposal: ⌊share × electorate⌋. */
export function delegateCap(shareBps: number, electorate: number): number {
  return Math.floor((shareBps * electorate) / 10_000)
}

/**
 * Counts a proposal at its deadline, against the state as it stands then.
 *
 * - Only members of the frozen electorate who are still active at the deadline count
 *   (leaving or being expelled forfeits votes on open proposals).
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
  const isActive = (id: string): boolean => state.members[id]?.status === 'active'
  let yes = 0
  let no = 0
  let abstain = 0
  let delegated = 0
  const count = (choice: 'yes' | 'no' | 'abstain'): void => {
    if (choice === 'yes') yes++
    else if (choice === 'no') no++
    else abstain++
  }
  const byDelegate = new Map<string, Array<{ member: string; index: number }>>()
  for (const member of proposal.electorate) {
    if (!isActive(member)) continue
    const direct = proposal.votes[member]
    if (direct !== undefined) {
      count(direct.choice)
      continue
    }
    const delegation = state.delegations[member]
    if (delegation === undefined) continue
    const delegateVote = proposal.votes[delegation.to]
    if (delegateVote === undefined || !isActive(delegation.to)) continue
    let list = byDelegate.get(delegation.to)
    if (list === undefined) byDelegate.set(delegation.to, (list = []))
    list.push({ member, index: delegation.index })
  }
  const cap = delegateCap(proposal.rules.maxDelegateShareBps, proposal.electorate.length)
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
  const electorate = proposal.electorate.length
  const quorumMet = (yes + no + abstain) * 10_000 >= proposal.rules.quorumBps * electorate
  const decided = yes + no
  const thresholdMet = proposal.rules.supermajority
    ? yes * 10_000 >= proposal.rules.thresholdBps * decided
    : yes * 10_000 > proposal.rules.thresholdBps * decided
  return { yes, no, abstain, delegated, electorate, quorumMet, passed: quorumMet && yes > 0 && thresholdMet, refused }
}
