import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, canonicalBytes, sign } from '../../src/identity/index.js'
import { DAY, GovHarness, HOUR, idOf, testKey } from './gov-harness.js'

const PARAM = { type: 'set-parameter', name: 'timelockMs', value: 0 }

test('replayed votes are refused by the ledger and, if one reached the final log, by the reducer', () => {
  const h = new GovHarness({ members: 5 })
  const pid = h.propose(h.members[0]!, PARAM)
  h.advance(2 * HOUR)
  const vote = h.entry(h.members[1]!, 'vote', { proposal: pid, choice: 'yes' })
  assert.equal(h.submit(vote).accepted, true)
  // The ledger refuses the same signed entry a second time.
  assert.deepEqual(h.submit(vote), { accepted: false, reason: 'replayed_seq', index: null })
  // Defence in depth: the reducer refuses it even if it reached the final log.
  const replayed = h.final(vote)
  assert.equal(h.rejectionOf(replayed), 'replayed_seq')
  // A refused vote replayed later (when the checks it failed might pass) is still a replay.
  const pid2 = h.propose(h.members[0]!, PARAM)
  const early = h.entry(h.members[2]!, 'vote', { proposal: pid2, choice: 'no' })
  h.submit(early)
  assert.equal(h.rejectionOf(h.index - 1), 'voting_not_open')
  h.advance(2 * HOUR)
  assert.equal(h.rejectionOf(h.final(early)), 'replayed_seq')
  assert.equal(h.state.proposals[pid2]!.votes[idOf(h.members[2]!)], undefined)
  h.advance(DAY)
  h.tick()
  assert.equal(h.state.proposals[pid]!.tally!.yes, 1)
})

test('forged votes are refused: wrong key, altered body, signature by a non-member key', () => {
  const h = new GovHarness({ members: 5 })
  const pid = h.propose(h.members[0]!, PARAM)
  h.advance(2 * HOUR)
  const victim = h.members[1]!
  const attacker = testKey('attacker', 0)
  // Claims the victim as author, signed with the attacker's key.
  const unsigned = { v: 1 as const, network: h.network, kind: 'vote', author: idOf(victim), seq: 1, time: h.time, body: { proposal: pid, choice: 'no' } }
  const forged = { ...unsigned, sig: bytesToHex(sign(canonicalBytes(unsigned), attacker.secretKey)) }
  assert.equal(h.submit(forged).reason, 'forged_signature')
  // A genuine vote with its body altered after signing.
  const genuine = h.entry(victim, 'vote', { proposal: pid, choice: 'yes' })
  const altered = { ...genuine, body: { proposal: pid, choice: 'no' } }
  assert.equal(h.submit(altered).reason, 'forged_signature')
  // Garbage signature.
  assert.equal(h.submit({ ...genuine, sig: 'zz' }).reason, 'bad_entry_schema')
  assert.equal(h.submit({ ...genuine, sig: 'ab'.repeat(64) }).reason, 'forged_signature')
  assert.equal(h.submit(genuine).accepted, true)
  h.advance(DAY)
  h.tick()
  const t = h.state.proposals[pid]!.tally!
  assert.deepEqual([t.yes, t.no], [1, 0])
})

test('entries of another network are refused by the reducer', () => {
  const h = new GovHarness({ members: 3 })
  const other = new GovHarness({ members: 3, params: { timelockMs: 1 } })
  const foreign = other.entry(h.members[0]!, 'propose', { title: 'x', action: PARAM })
  const i = h.final(foreign)
  assert.equal(h.rejectionOf(i), 'wrong_network')
  assert.deepEqual(h.state.proposals, {})
})

test('malformed bodies are refused by the ledger, and by the reducer (bad_body naming the field) if one got through', () => {
  const h = new GovHarness({ members: 3 })
  const bad = [
    h.entry(h.members[0]!, 'vote', { proposal: -1, choice: 'maybe' }),
    h.entry(h.members[0]!, 'propose', { title: 'x', action: { type: 'make-me-king' } }),
    h.entry(h.members[0]!, 'member-vouch', { candidate: 'ABC' }),
    h.entry(h.members[0]!, 'vote', { proposal: 0, choice: 'yes', weight: 1000 }),
  ]
  for (const e of bad) assert.equal(h.submit(e).reason, 'bad_entry_schema')
  const indexes = bad.map((e) => h.final(e))
  for (const i of indexes) assert.equal(h.rejectionOf(i), 'bad_body')
  const r = h.state.rejections.find((x) => x.index === indexes[0])!
  assert.match(r.detail, /proposal/)
  assert.match(r.detail, /choice/)
  assert.match(h.state.rejections.find((x) => x.index === indexes[3])!.detail, /weight/)
})

test('an older vote or delegation finalized after a newer one (epochs order by hash) does not override it', () => {
  const h = new GovHarness({ members: 100 })
  const pid = h.propose(h.members[0]!, { type: 'amend-constitution', text: 'x' })
  h.advance(2 * HOUR)
  const m = h.members[1]!
  const older = h.entry(m, 'vote', { proposal: pid, choice: 'no' })
  const newer = h.entry(m, 'vote', { proposal: pid, choice: 'yes' })
  h.submit(newer)
  const late = h.submit(older).index!
  assert.equal(h.rejectionOf(late), 'superseded')
  assert.equal(h.state.proposals[pid]!.votes[idOf(m)]!.choice, 'yes')
  const delegateOld = h.entry(h.members[2]!, 'delegate', { to: idOf(h.members[3]!) })
  const revokeNew = h.entry(h.members[2]!, 'delegate', { to: null })
  // The revocation is final first (nothing to revoke yet): it still marks the author's later word.
  assert.equal(h.rejectionOf(h.submit(revokeNew).index!), null)
  assert.equal(h.rejectionOf(h.submit(delegateOld).index!), 'superseded')
  assert.equal(h.state.delegations[idOf(h.members[2]!)], undefined)
})

test('out-of-order application is a caller bug and throws', () => {
  const h = new GovHarness({ members: 3 })
  h.tick()
  h.index = 0
  assert.throws(() => h.tick(), /out_of_order|applied after/)
})
