import { test } from 'node:test'
import assert from 'node:assert/strict'
import { explainModel, isServable, servableModels } from '../../src/governance/index.js'
import { DAY, GENESIS_TIME, GovHarness, HOUR, idOf, modelManifest, testKey } from './gov-harness.js'

const PARAM = { type: 'set-parameter', name: 'votingPeriodMs', value: 2 * DAY }

test('low turnout: a proposal short of quorum fails even if every vote is yes', () => {
  const h = new GovHarness({ members: 10, params: { quorumBps: 3000 } })
  const pid = h.propose(h.members[0]!, PARAM)
  h.advance(2 * HOUR)
  h.vote(h.members[0]!, pid, 'yes')
  h.vote(h.members[1]!, pid, 'yes') // 2 of 10 < 30%
  h.advance(DAY)
  h.tick()
  const p = h.state.proposals[pid]!
  assert.equal(p.status, 'failed')
  assert.deepEqual([p.tally!.yes, p.tally!.quorumMet, p.tally!.passed], [2, false, false])
  assert.equal(h.state.params.votingPeriodMs, DAY)
  assert.deepEqual(h.state.open, [])
})

test('quorum counts abstentions; simple majority needs more yes than no', () => {
  const h = new GovHarness({ members: 10 })
  const tie = h.propose(h.members[0]!, PARAM)
  h.advance(2 * HOUR)
  h.vote(h.members[0]!, tie, 'yes')
  h.vote(h.members[1]!, tie, 'no')
  h.vote(h.members[2]!, tie, 'abstain')
  h.advance(DAY)
  h.tick()
  const p = h.state.proposals[tie]!
  assert.deepEqual([p.tally!.quorumMet, p.tally!.passed, p.status], [true, false, 'failed'])
})

test('votes can change until the deadline; votes in a checkpoint after the deadline do not count', () => {
  const h = new GovHarness({ members: 3 })
  const pid = h.propose(h.members[0]!, PARAM)
  const early = h.vote(h.members[1]!, pid, 'yes')
  assert.equal(h.rejectionOf(early), 'voting_not_open')
  h.advance(HOUR)
  const p = h.state.proposals[pid]!
  h.vote(h.members[0]!, pid, 'no')
  const changed = h.vote(h.members[0]!, pid, 'yes')
  assert.deepEqual(p.votes[idOf(h.members[0]!)], { choice: 'yes', index: changed, seq: 3 })
  h.vote(h.members[1]!, pid, 'no')
  // A checkpoint exactly at the deadline still counts.
  h.time = p.votingEndsAt
  h.vote(h.members[1]!, pid, 'yes')
  // The next checkpoint is after the deadline: too late to flip the result.
  h.time = p.votingEndsAt + 1
  const late1 = h.vote(h.members[1]!, pid, 'no')
  const late2 = h.vote(h.members[2]!, pid, 'no')
  assert.equal(h.rejectionOf(late1), 'voting_closed')
  assert.equal(h.rejectionOf(late2), 'voting_closed')
  assert.equal(p.status, 'passed')
  assert.deepEqual([p.tally!.yes, p.tally!.no], [2, 0])
})

test('members admitted after a proposal was created cannot vote on it', () => {
  const h = new GovHarness({ members: 3 })
  const pid = h.propose(h.members[0]!, PARAM)
  const late = testKey('late', 0)
  h.act(h.members[0]!, 'member-vouch', { candidate: idOf(late) })
  h.act(h.members[1]!, 'member-vouch', { candidate: idOf(late) })
  assert.equal(h.state.members[idOf(late)]!.status, 'active')
  h.advance(2 * HOUR)
  const v = h.vote(late, pid, 'yes')
  assert.equal(h.rejectionOf(v), 'not_in_electorate')
  assert.equal(h.state.proposals[pid]!.electorate, 3)
  assert.equal(h.state.proposals[pid]!.votes[idOf(late)], undefined)
  // A new proposal includes them.
  const pid2 = h.propose(h.members[1]!, { type: 'amend-constitution', text: 'new' })
  assert.equal(h.state.proposals[pid2]!.electorate, 4)
})

test('delegation: one hop, revocable, direct votes override, and a delegate beyond the cap is refused', () => {
  // 100 members, 2% → a delegate carries at most 2 delegations.
  const h = new GovHarness({ members: 100, params: { quorumBps: 1000 } })
  const [d, a, b, c, e] = h.members as Array<ReturnType<typeof testKey>>
  assert.equal(h.rejectionOf(h.act(a!, 'delegate', { to: idOf(d!) })), null)
  assert.equal(h.rejectionOf(h.act(b!, 'delegate', { to: idOf(d!) })), null)
  const third = h.act(c!, 'delegate', { to: idOf(d!) })
  assert.equal(h.rejectionOf(third), 'delegate_cap')
  assert.equal(h.state.delegations[idOf(c!)], undefined)
  // One hop: d (a delegate) cannot delegate, and nobody can delegate to a delegator.
  assert.equal(h.rejectionOf(h.act(d!, 'delegate', { to: idOf(e!) })), 'delegation_chain')
  assert.equal(h.rejectionOf(h.act(e!, 'delegate', { to: idOf(a!) })), 'delegation_chain')
  assert.equal(h.rejectionOf(h.act(e!, 'delegate', { to: idOf(e!) })), 'self_delegation')
  // Revoke and re-delegate.
  assert.equal(h.rejectionOf(h.act(b!, 'delegate', { to: null })), null)
  assert.equal(h.rejectionOf(h.act(b!, 'delegate', { to: null })), null, 'revoking twice is harmless')
  assert.equal(h.state.delegations[idOf(b!)], undefined)
  assert.equal(h.rejectionOf(h.act(c!, 'delegate', { to: idOf(d!) })), null)

  const pid = h.propose(h.members[10]!, PARAM)
  h.advance(2 * HOUR)
  h.vote(d!, pid, 'yes')
  h.vote(c!, pid, 'no') // overrides the delegation
  for (let i = 20; i < 28; i++) h.vote(h.members[i]!, pid, 'no')
  h.advance(DAY)
  h.tick()
  const t = h.state.proposals[pid]!.tally!
  // d + a (delegated) yes; c + 8 no.
  assert.deepEqual([t.yes, t.no, t.delegated, t.passed], [2, 9, 1, false])
})

test('delegate cap is enforced again at the tally against the frozen electorate', () => {
  // 100 members: cap 2. Delegations made, then half the members leave before a proposal: its
  // electorate of 50 allows ⌊2% × 50⌋ = 1 delegated vote; the second is refused with a reason.
  const h = new GovHarness({ members: 100, params: { quorumBps: 1000 } })
  const [d, a, b] = h.members as Array<ReturnType<typeof testKey>>
  h.act(b!, 'delegate', { to: idOf(d!) })
  h.act(a!, 'delegate', { to: idOf(d!) })
  for (let i = 50; i < 100; i++) h.act(h.members[i]!, 'member-leave', {})
  const pid = h.propose(h.members[10]!, PARAM)
  h.advance(2 * HOUR)
  h.vote(d!, pid, 'yes')
  for (let i = 11; i < 16; i++) h.vote(h.members[i]!, pid, 'yes')
  h.advance(DAY)
  h.tick()
  const t = h.state.proposals[pid]!.tally!
  assert.equal(t.electorate, 50)
  assert.equal(t.delegated, 1)
  // b delegated first (lower index) so b is counted; a is refused.
  assert.deepEqual(t.refused, [{ member: idOf(a!), delegate: idOf(d!), reason: 'delegate_cap' }])
  assert.equal(t.yes, 7)
})

test('the delegate share cannot be raised above its hard limit (5%)', () => {
  const h = new GovHarness({ members: 3 })
  const over = h.propose(h.members[0]!, { type: 'set-parameter', name: 'maxDelegateShareBps', value: 501 })
  assert.equal(h.rejectionOf(over), 'bad_action')
  const lowQuorum = h.propose(h.members[0]!, { type: 'set-parameter', name: 'quorumBps', value: 999 })
  assert.equal(h.rejectionOf(lowQuorum), 'bad_action')
  const unknown = h.propose(h.members[0]!, { type: 'set-parameter', name: 'owner', value: 1 })
  assert.equal(h.rejectionOf(unknown), 'bad_action')
  const frac = h.propose(h.members[0]!, { type: 'set-parameter', name: 'timelockMs', value: 1.5 })
  assert.equal(h.rejectionOf(frac), 'bad_action')
  assert.equal(Object.keys(h.state.proposals).length, 0)
  assert.throws(() => new GovHarness({ params: { maxDelegateShareBps: 600 } }), /hard limit/)
})

test('timelock: a passed parameter change applies at the first epoch start after the timelock, not before', () => {
  const h = new GovHarness({ members: 3, epochMs: 5 * HOUR })
  h.time = GENESIS_TIME + 1000
  const pid = h.propose(h.members[0]!, PARAM)
  const p = h.state.proposals[pid]!
  h.advance(HOUR)
  for (const m of h.members) h.vote(m, pid, 'yes')
  h.time = p.votingEndsAt + 1
  h.tick()
  assert.equal(p.status, 'passed')
  // votingEndsAt = genesis + 1s + 1h + 24h; + 6h timelock = genesis + 31h + 1s → epoch start at 35h.
  assert.equal(p.effectiveAt, GENESIS_TIME + 35 * HOUR)
  h.time = p.votingEndsAt + 6 * HOUR + 1
  h.tick()
  assert.equal(p.status, 'passed', 'timelock over, but the epoch has not started')
  h.time = GENESIS_TIME + 35 * HOUR - 1
  h.tick()
  assert.equal(h.state.params.votingPeriodMs, DAY)
  h.time = GENESIS_TIME + 35 * HOUR
  h.tick()
  assert.equal(p.status, 'executed')
  assert.equal(p.executedAt, GENESIS_TIME + 35 * HOUR)
  assert.equal(h.state.params.votingPeriodMs, 2 * DAY)
  assert.deepEqual(h.state.paramHistory, [{ name: 'votingPeriodMs', value: 2 * DAY, proposal: pid, at: GENESIS_TIME + 35 * HOUR }])
  // Proposals made from now on use the new period; the rules of older ones stayed frozen.
  const pid2 = h.propose(h.members[0]!, { type: 'amend-constitution', text: 'x' })
  assert.equal(h.state.proposals[pid2]!.rules.votingPeriodMs, 2 * DAY)
  assert.equal(p.rules.votingPeriodMs, DAY)
})

test('supermajority: 2 of 3 passes a witness change, 3 of 5 does not', () => {
  const witnesses = [testKey('w', 1), testKey('w', 2), testKey('w', 3), testKey('w', 4)].map(idOf)
  const run = (members: number, yes: number): string => {
    const h = new GovHarness({ members })
    const pid = h.propose(h.members[0]!, { type: 'set-witnesses', witnesses, threshold: 3 })
    h.advance(2 * HOUR)
    h.members.forEach((m, i) => h.vote(m, pid, i < yes ? 'yes' : 'no'))
    h.advance(2 * DAY)
    h.tick()
    const p = h.state.proposals[pid]!
    if (p.status === 'executed') assert.deepEqual(h.state.witnesses.witnesses, [...witnesses].sort())
    return p.status
  }
  assert.equal(run(3, 2), 'executed')
  assert.equal(run(5, 3), 'failed')
  const h = new GovHarness({ members: 3 })
  const bad = h.propose(h.members[0]!, { type: 'set-witnesses', witnesses, threshold: 2 })
  assert.equal(h.rejectionOf(bad), 'bad_action', '2 of 4 is not > 2n/3')
})

test('models: admission makes a model servable with its provenance and audit trail; retirement stops it', () => {
  const h = new GovHarness({ members: 3 })
  const manifest = modelManifest(1)
  const pid = h.propose(h.members[0]!, { type: 'admit-model', manifest }, 'admit model-1')
  h.advance(2 * HOUR)
  const votes = h.members.map((m) => h.vote(m, pid, 'yes'))
  assert.equal(isServable(h.state, manifest.file.sha256), false)
  h.advance(2 * DAY)
  h.tick()
  assert.equal(isServable(h.state, manifest.file.sha256), true)
  const listed = servableModels(h.state)
  assert.equal(listed.length, 1)
  assert.deepEqual(listed[0]!.manifest.provenance, { kind: 'synthetic', generator: 'test 1', seed: 1 })
  const why = explainModel(h.state, manifest.file.sha256)
  assert.equal(why.admission!.proposal, pid)
  assert.deepEqual(why.admission!.votes.map((v) => v.index).sort((a, b) => a - b), votes)
  assert.equal(why.admission!.outcome, 'applied')

  const incomplete = h.propose(h.members[1]!, { type: 'admit-model', manifest: { ...modelManifest(2), provenance: undefined } })
  assert.equal(h.rejectionOf(incomplete), 'bad_action', 'no admission without provenance')
  const again = h.propose(h.members[1]!, { type: 'admit-model', manifest })
  assert.equal(h.rejectionOf(again), 'bad_action')
  const rid = h.propose(h.members[1]!, { type: 'retire-model', sha256: manifest.file.sha256, reason: 'superseded' })
  h.advance(2 * HOUR)
  for (const m of h.members) h.vote(m, rid, 'yes')
  h.advance(2 * DAY)
  h.tick()
  assert.equal(isServable(h.state, manifest.file.sha256), false)
  assert.deepEqual(servableModels(h.state), [])
  assert.equal(explainModel(h.state, manifest.file.sha256).retirement!.proposal, rid)
})

test('a member may have at most maxOpenProposalsPerMember open proposals', () => {
  const h = new GovHarness({ members: 3, params: { maxOpenProposalsPerMember: 2 } })
  h.propose(h.members[0]!, PARAM)
  h.propose(h.members[0]!, { type: 'amend-constitution', text: 'a' })
  const third = h.propose(h.members[0]!, { type: 'amend-constitution', text: 'b' })
  assert.equal(h.rejectionOf(third), 'too_many_open_proposals')
  assert.equal(h.rejectionOf(h.propose(h.members[1]!, PARAM)), null)
})

test('changing a voting rule (quorum, thresholds, delegate cap, vouching) needs the 2/3 supermajority', () => {
  const h = new GovHarness({ members: 5 })
  const quorum = h.propose(h.members[0]!, { type: 'set-parameter', name: 'quorumBps', value: 2000 })
  const period = h.propose(h.members[1]!, { type: 'set-parameter', name: 'votingPeriodMs', value: 2 * DAY })
  assert.equal(h.state.proposals[quorum]!.rules.supermajority, true)
  assert.equal(h.state.proposals[period]!.rules.supermajority, false)
  h.advance(2 * HOUR)
  // 3 of 5 yes: a simple majority, not 2/3.
  for (const [i, m] of h.members.entries()) {
    h.vote(m, quorum, i < 3 ? 'yes' : 'no')
    h.vote(m, period, i < 3 ? 'yes' : 'no')
  }
  h.advance(2 * DAY)
  h.tick()
  assert.equal(h.state.proposals[quorum]!.status, 'failed')
  assert.equal(h.state.proposals[period]!.status, 'executed')
  assert.equal(h.state.params.quorumBps, 3000)
})
