import { admissionPeriodOf } from './time.js'
import { reject } from './rejections.js'
import type { DelegateBody, VouchBody } from './bodies.js'
import type { FinalEntry, GovState, Proposal } from './types.js'

/**
 * Membership: vouching (admission), leaving, delegation. Each `apply…` checks everything first and
 * rejects (throws `Rejected`) before touching the state, then mutates.
 */

/** Most delegated votes one delegate may carry on a proposal: ⌊share × electorate⌋. */
export function delegateCap(shareBps: number, electorate: number): number {
  return Math.floor((shareBps * electorate) / 10_000)
}

export function isActiveMember(state: GovState, id: string): boolean {
  return state.members[id]?.status === 'active'
}

/** True when `id` may vote on proposal `p` now (see `Proposal.electorate`). */
export function inElectorate(state: GovState, p: Proposal, id: string): boolean {
  const m = state.members[id]
  return m !== undefined && m.status === 'active' && (m.admittedAt === null || m.admittedAt < p.id)
}

/** Ids of the active members, sorted (O(members): for views, not for the reducer's hot path). */
export function activeMemberIds(state: GovState): string[] {
  const out: string[] = []
  for (const [id, m] of Object.entries(state.members)) if (m.status === 'active') out.push(id)
  return out.sort()
}

function requireMember(state: GovState, author: string): void {
  if (!isActiveMember(state, author)) reject('not_a_member', `${author} is not an active member`)
}

/** Whether `voucher` may vouch now; the vouch counts toward admission only while this holds. */
function vouchingRight(state: GovState, voucher: string): { ok: true } | { ok: false; reason: 'not_a_member' | 'vouch_penalty' | 'vouch_probation'; detail: string } {
  const member = state.members[voucher]
  if (member === undefined || member.status !== 'active') return { ok: false, reason: 'not_a_member', detail: `${voucher} is not an active member` }
  const record = state.vouchers[voucher]
  if (record !== undefined && state.time < record.penaltyUntil) {
    return { ok: false, reason: 'vouch_penalty', detail: `vouching suspended until ${record.penaltyUntil} (expulsion ${record.penaltyCause})` }
  }
  // Members vouch from the admission period after the one they joined in, so a ring cannot
  // compound its admissions within a period.
  if (member.admittedAt !== null && admissionPeriodOf(state, member.since) >= admissionPeriodOf(state, state.time)) {
    return { ok: false, reason: 'vouch_probation', detail: 'new members may vouch from the next admission period' }
  }
  return { ok: true }
}

/**
 * `member-vouch`: an active member vouches for a candidate. When the candidate holds
 * `vouchesRequired` vouches from members who still have the right to vouch, it is admitted at once.
 * A member gives at most `maxAdmissionsPerVoucherPerPeriod` vouches per admission period.
 */
export function applyVouch(state: GovState, fe: FinalEntry, body: VouchBody): void {
  const voucher = fe.entry.author
  const right = vouchingRight(state, voucher)
  if (!right.ok) reject(right.reason, right.detail)
  const { candidate } = body
  if (candidate === voucher) reject('self_vouch', 'a member cannot vouch for itself')
  const target = state.members[candidate]
  if (target?.status === 'active') reject('already_member', `${candidate} is already a member`)
  if (target?.status === 'expelled') reject('candidate_expelled', `${candidate} was expelled (proposal ${target.expelledBy})`)
  const pending = state.candidates[candidate]
  if (pending?.vouches.some((v) => v.voucher === voucher)) reject('duplicate_vouch', `already vouched for ${candidate}`)
  const period = admissionPeriodOf(state, state.time)
  const record = state.vouchers[voucher]
  const used = record !== undefined && record.period === period ? record.count : 0
  if (used >= state.params.maxAdmissionsPerVoucherPerPeriod) {
    reject('vouch_rate_limited', `${used} vouches already given in admission period ${period}`)
  }

  if (record === undefined) state.vouchers[voucher] = { period, count: 1, penaltyUntil: 0, penaltyCause: null }
  else {
    record.period = period
    record.count = used + 1
  }
  const entry = { voucher, index: fe.index }
  const vouches = [...(pending?.vouches ?? []), entry].sort((a, b) => (a.voucher < b.voucher ? -1 : 1))
  const valid = vouches.filter((v) => vouchingRight(state, v.voucher).ok)
  if (valid.length >= state.params.vouchesRequired) {
    delete state.candidates[candidate]
    state.activeMembers++
    state.members[candidate] = {
      status: 'active',
      since: state.time,
      admittedAt: fe.index,
      vouchedBy: valid,
      leftAt: null,
      expelledBy: null,
    }
  } else {
    state.candidates[candidate] = { vouches }
  }
}

/** `member-leave`: an active member leaves (not the last one: someone must be able to govern). */
export function applyLeave(state: GovState, fe: FinalEntry): void {
  const author = fe.entry.author
  requireMember(state, author)
  if (state.activeMembers <= 1) reject('last_member', 'the last active member cannot leave')
  const member = state.members[author]!
  member.status = 'left'
  state.activeMembers--
  member.leftAt = fe.index
  dropDelegationsOf(state, author)
}

/** Removes the delegation given by `id` and every delegation given to `id`. */
export function dropDelegationsOf(state: GovState, id: string): void {
  removeDelegation(state, id)
  if ((state.carried[id] ?? 0) === 0) return
  for (const [from, d] of Object.entries(state.delegations)) if (d.to === id) removeDelegation(state, from)
}

function removeDelegation(state: GovState, from: string): void {
  const d = state.delegations[from]
  if (d === undefined) return
  delete state.delegations[from]
  const n = (state.carried[d.to] ?? 1) - 1
  if (n > 0) state.carried[d.to] = n
  else delete state.carried[d.to]
}

/** Members who delegate to `id`, sorted (O(delegations): for views). */
export function delegatorsOf(state: GovState, id: string): string[] {
  const out: string[] = []
  for (const [from, d] of Object.entries(state.delegations)) if (d.to === id) out.push(from)
  return out.sort()
}

/**
 * `delegate`: give (or with `to: null` revoke) one's vote to another member. At most one hop:
 * a member who delegates cannot receive delegations and vice versa. A delegate may carry at most
 * ⌊maxDelegateShare × active members⌋ delegations; beyond that the delegation is refused
 * (`delegate_cap`). The tally applies the same cap against each proposal's frozen electorate.
 */
export function applyDelegate(state: GovState, fe: FinalEntry, body: DelegateBody): void {
  const author = fe.entry.author
  requireMember(state, author)
  const mark = state.delegationMarks[author]
  if (mark !== undefined && mark.seq > fe.entry.seq) {
    reject('superseded', `delegate entry ${mark.index} (seq ${mark.seq}) is the author's later word`)
  }
  if (body.to === null) {
    // Accepted even with nothing to revoke: it still marks the author's latest word, in case an
    // older delegation of theirs is finalized after it.
    removeDelegation(state, author)
    state.delegationMarks[author] = { seq: fe.entry.seq, index: fe.index }
    return
  }
  const to = body.to
  if (to === author) reject('self_delegation', 'a member cannot delegate to itself')
  if (!isActiveMember(state, to)) reject('delegate_not_member', `${to} is not an active member`)
  if (state.delegations[to] !== undefined) reject('delegation_chain', `${to} has delegated its own vote (one hop only)`)
  if ((state.carried[author] ?? 0) > 0) reject('delegation_chain', 'members who carry delegations cannot delegate (one hop only)')
  const current = state.delegations[author]
  const carried = (state.carried[to] ?? 0) - (current?.to === to ? 1 : 0)
  const cap = delegateCap(state.params.maxDelegateShareBps, state.activeMembers)
  if (carried + 1 > cap) reject('delegate_cap', `${to} already carries ${carried} delegations; the cap is ${cap}`)
  removeDelegation(state, author)
  state.delegations[author] = { to, index: fe.index }
  state.carried[to] = (state.carried[to] ?? 0) + 1
  state.delegationMarks[author] = { seq: fe.entry.seq, index: fe.index }
}
