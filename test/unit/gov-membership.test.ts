import { test } from 'node:test'
import assert from 'node:assert/strict'
import { activeMemberIds, stateRoot } from '../../src/governance/index.js'
import { DAY, GovHarness, HOUR, idOf, testKey } from './gov-harness.js'

test('sybil: 50 fresh keys with no vouches cannot vote, vouch, propose or delegate', () => {
  const h = new GovHarness({ members: 5 })
  const pid = h.propose(h.members[0]!, { type: 'set-parameter', name: 'votingPeriodMs', value: 2 * DAY })
  h.advance(2 * HOUR)
  const sybils = Array.from({ length: 50 }, (_, i) => testKey('sybil', i))
  for (const s of sybils) {
    const indexes = [
      h.vote(s, pid, 'yes'),
      h.act(s, 'member-vouch', { candidate: idOf(sybils[(sybils.indexOf(s) + 1) % 50]!) }),
      h.act(s, 'propose', { title: 'take over', action: { type: 'set-parameter', name: 'quorumBps', value: 1000 } }),
      h.act(s, 'delegate', { to: idOf(h.members[0]!) }),
    ]
    for (const i of indexes) assert.equal(h.rejectionOf(i), 'not_a_member')
  }
  assert.equal(activeMemberIds(h.state).length, 5)
  assert.deepEqual(h.state.proposals[pid]!.votes, {})
  assert.deepEqual(h.state.candidates, {})
  assert.deepEqual(h.state.delegations, {})
  assert.equal(Object.keys(h.state.proposals).length, 1)
  assert.equal(h.state.rejections.length, 200)
})

test('admission needs vouchesRequired vouches from active members', () => {
  const h = new GovHarness({ members: 3 })
  const newcomer = testKey('newcomer', 0)
  const first = h.act(h.members[0]!, 'member-vouch', { candidate: idOf(newcomer) })
  assert.equal(h.rejectionOf(first), null)
  assert.equal(h.state.members[idOf(newcomer)], undefined)
  const dup = h.act(h.members[0]!, 'member-vouch', { candidate: idOf(newcomer) })
  assert.equal(h.rejectionOf(dup), 'duplicate_vouch')
  const second = h.act(h.members[1]!, 'member-vouch', { candidate: idOf(newcomer) })
  const m = h.state.members[idOf(newcomer)]
  assert.equal(m?.status, 'active')
  assert.equal(m?.admittedAt, second)
  assert.deepEqual(m?.vouchedBy.map((v) => v.index).sort(), [first, second])
  assert.equal(h.state.candidates[idOf(newcomer)], undefined)
  const again = h.act(h.members[2]!, 'member-vouch', { candidate: idOf(newcomer) })
  assert.equal(h.rejectionOf(again), 'already_member')
  const self = h.act(h.members[2]!, 'member-vouch', { candidate: idOf(h.members[2]!) })
  assert.equal(h.rejectionOf(self), 'self_vouch')
})

test('a vouching ring is capped by the admission rate: vouches per member per period bound admissions', () => {
  // 3 colluding members, 2 vouches each per period, 2 vouches per admission: at most ⌊3×2/2⌋ = 3 per period.
  const h = new GovHarness({ members: 3, params: { maxAdmissionsPerVoucherPerPeriod: 2, vouchesRequired: 2 } })
  const sybils = Array.from({ length: 20 }, (_, i) => testKey('ring', i))
  /** Every member and every sybil vouches for every other sybil; returns accepted vouches. */
  const attack = (): number => {
    let accepted = 0
    for (const target of sybils) {
      for (const voucher of [...h.members, ...sybils]) {
        if (voucher === target) continue
        const i = h.act(voucher, 'member-vouch', { candidate: idOf(target) })
        if (h.rejectionOf(i) === null) accepted++
      }
    }
    return accepted
  }
  const accepted1 = attack()
  const after1 = activeMemberIds(h.state).length
  assert.ok(accepted1 <= 3 * 2, `accepted ${accepted1} vouches`)
  assert.ok(after1 - 3 >= 1 && after1 - 3 <= 3, `admitted ${after1 - 3} in the first period`)
  assert.ok(h.state.rejections.some((r) => r.reason === 'vouch_rate_limited'))
  assert.ok(h.state.rejections.some((r) => r.reason === 'vouch_probation'), 'sybils admitted this period cannot vouch yet')

  // Next period: now every admitted sybil vouches too, still 2 each: growth stays linear in members.
  h.advance(7 * DAY)
  const accepted2 = attack()
  const after2 = activeMemberIds(h.state).length
  assert.ok(accepted2 <= after1 * 2, `accepted ${accepted2} vouches`)
  assert.ok(after2 - 3 <= Math.floor((accepted1 + accepted2) / 2))
  assert.ok(after2 < 3 + 20, 'the ring could not admit all 20 sybils in two periods')
})

test('leaving drops delegations; the last member cannot leave; a left member cannot act', () => {
  const h = new GovHarness({ members: 2, params: { maxDelegateShareBps: 500 } })
  const [a, b] = h.members as [ReturnType<typeof testKey>, ReturnType<typeof testKey>]
  const left = h.act(a, 'member-leave', {})
  assert.equal(h.rejectionOf(left), null)
  assert.equal(h.state.members[idOf(a)]!.status, 'left')
  assert.equal(h.state.members[idOf(a)]!.leftAt, left)
  const last = h.act(b, 'member-leave', {})
  assert.equal(h.rejectionOf(last), 'last_member')
  assert.equal(h.state.members[idOf(b)]!.status, 'active')
  const after = h.act(a, 'propose', { title: 'x', action: { type: 'amend-constitution', text: 'y' } })
  assert.equal(h.rejectionOf(after), 'not_a_member')
})

test('expulsion (2/3) suspends the vouchers of the expelled member for vouchPenaltyMs', () => {
  const h = new GovHarness({ members: 6 })
  const [m0, m1, m2, m3, m4, m5] = h.members as Array<ReturnType<typeof testKey>>
  const bad = testKey('bad', 0)
  h.act(m0!, 'member-vouch', { candidate: idOf(bad) })
  h.act(m1!, 'member-vouch', { candidate: idOf(bad) })
  assert.equal(h.state.members[idOf(bad)]!.status, 'active')
  const pid = h.propose(m2!, { type: 'expel-member', member: idOf(bad), reason: 'spam' })
  assert.equal(h.state.proposals[pid]!.rules.supermajority, true)
  h.advance(2 * HOUR)
  for (const m of [m0, m1, m2, m3, m4]) h.vote(m!, pid, 'yes')
  h.vote(m5!, pid, 'no')
  h.vote(bad, pid, 'no')
  h.advance(DAY + 12 * HOUR)
  h.tick()
  const p = h.state.proposals[pid]!
  assert.equal(p.status, 'executed')
  assert.equal(p.outcome, 'applied')
  assert.equal(h.state.members[idOf(bad)]!.status, 'expelled')
  assert.equal(h.state.vouchers[idOf(m0!)]!.penaltyCause, pid)
  // The vouchers cannot vouch during the penalty; another member can.
  const newcomer = testKey('newcomer', 1)
  const r0 = h.act(m0!, 'member-vouch', { candidate: idOf(newcomer) })
  assert.equal(h.rejectionOf(r0), 'vouch_penalty')
  const r3 = h.act(m3!, 'member-vouch', { candidate: idOf(newcomer) })
  assert.equal(h.rejectionOf(r3), null)
  // The expelled key cannot come back.
  const back = h.act(m4!, 'member-vouch', { candidate: idOf(bad) })
  assert.equal(h.rejectionOf(back), 'candidate_expelled')
  // After the penalty, m0 vouches again.
  h.advance(31 * DAY)
  const later = h.act(m0!, 'member-vouch', { candidate: idOf(newcomer) })
  assert.equal(h.rejectionOf(later), null)
  assert.equal(h.state.members[idOf(newcomer)]!.status, 'active')
})

test('a rejected entry changes nothing but its rejection record and the seq mark', () => {
  const h = new GovHarness({ members: 3 })
  h.tick()
  const before = structuredClone(h.state)
  const i = h.act(testKey('outsider', 0), 'member-vouch', { candidate: idOf(testKey('x', 0)) })
  const after = structuredClone(h.state)
  assert.equal(after.rejections.length, 1)
  assert.equal(after.rejections[0]!.index, i)
  after.rejections = []
  after.seqs = {}
  before.seqs = {}
  after.lastIndex = before.lastIndex
  assert.equal(stateRoot(after), stateRoot(before))
})
