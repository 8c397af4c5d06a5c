import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  applyCheckpointTime,
  applyEntry,
  cloneState,
  initialState,
  restoreState,
  snapshotState,
  stateRoot,
  type FinalEntry,
} from '../../src/governance/index.js'
import { CorruptSnapshotError } from '../../src/governance/errors.js'
import { DAY, GovHarness, HOUR, idOf, modelManifest, testKey } from './gov-harness.js'
import { seededRandom } from '../helpers/seeded-random.js'


/**
 * A random history of real signed entries: vouches for a pool of candidates, proposals of every
 * type, votes, delegations and revocations, leaves, and a few invalid entries, over a clock that
 * advances by random steps. Applied to the harness's reducer as it is generated (the generator
 * reads that state to pick plausible proposal ids); returns the final entries in log order.
 */
function randomHistory(seed: number, length: number): { h: GovHarness; entries: FinalEntry[] } {
  const rand = seededRandom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  // 24 members so that a 5% delegate cap allows one delegation per delegate.
  const h = new GovHarness({ members: 24, params: { maxDelegateShareBps: 500, quorumBps: 1000, admissionPeriodMs: 2 * DAY }, epochMs: 3 * HOUR })
  const outsiders = Array.from({ length: 12 }, (_, i) => testKey(`cand-${seed}`, i))
  const people = [...h.members, ...outsiders]
  const entries: FinalEntry[] = []
  const witnesses = [testKey('w', 1), testKey('w', 2), testKey('w', 3)].map(idOf)
  for (let n = 0; n < length; n++) {
    if (rand() < 0.3) h.advance(Math.floor(rand() * 6 * HOUR))
    const who = rand() < 0.85 ? pick(h.members) : pick(outsiders)
    const r = rand()
    const proposals = rand() < 0.8 && h.state.open.length > 0 ? h.state.open : Object.keys(h.state.proposals).map(Number)
    let kind: string
    let body: unknown
    if (r < 0.2) {
      kind = 'member-vouch'
      body = { candidate: idOf(rand() < 0.8 ? pick(outsiders) : pick(people)) }
    } else if (r < 0.35) {
      kind = 'propose'
      const t = rand()
      const action =
        t < 0.25
          ? { type: 'admit-model', manifest: modelManifest(Math.floor(rand() * 4)) }
          : t < 0.4
            ? { type: 'retire-model', sha256: modelManifest(Math.floor(rand() * 4)).file.sha256 }
            : t < 0.65
              ? { type: 'set-parameter', name: pick(['votingPeriodMs', 'timelockMs', 'quorumBps', 'discussionDelayMs']), value: Math.floor(rand() * 5) * HOUR + 60_000 }
              : t < 0.75
                ? { type: 'set-witnesses', witnesses, threshold: 3 }
                : t < 0.85
                  ? { type: 'amend-constitution', text: `amendment ${n}` }
                  : { type: 'expel-member', member: idOf(pick(people)) }
      body = { title: `p${n}`, action }
    } else if (r < 0.8) {
      kind = 'vote'
      body = { proposal: proposals.length > 0 ? pick(proposals) : 0, choice: pick(['yes', 'yes', 'no', 'abstain']) }
    } else if (r < 0.93) {
      kind = 'delegate'
      body = { to: rand() < 0.2 ? null : idOf(pick(people)) }
    } else if (r < 0.96) {
      kind = 'member-leave'
      body = {}
    } else {
      kind = pick(['vote', 'note'])
      body = { nonsense: n }
    }
    const entry = h.entry(who, kind, body)
    entries.push({ entry, index: h.index, time: h.time })
    h.final(entry)
  }
  return { h, entries }
}

test('determinism: random histories replayed by independent reducers, with extra checkpoint ticks, and from snapshots, give identical stateRoots', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const { h, entries } = randomHistory(seed, 400)
    const reference = stateRoot(h.state)
    const rand = seededRandom(seed * 7919)

    // Instance B: its own initial state from the genesis; between entries, idle final checkpoints
    // move its clock (at times not later than the next entry's checkpoint).
    const b = initialState(structuredClone(h.genesis))
    for (let i = 0; i < entries.length; i++) {
      applyEntry(b, entries[i]!)
      const next = entries[i + 1]
      if (next !== undefined && rand() < 0.3) applyCheckpointTime(b, entries[i]!.time + Math.floor(rand() * (next.time - entries[i]!.time + 1)))
    }
    assert.equal(stateRoot(b), reference, `seed ${seed}: ticked replay diverged`)

    // Instance C: restart from a snapshot taken part-way (serialised to text and back).
    const cut = Math.floor(rand() * entries.length)
    let c = initialState(h.genesis)
    for (const fe of entries.slice(0, cut)) applyEntry(c, fe)
    c = restoreState(snapshotState(c), h.network)
    for (const fe of entries.slice(cut)) applyEntry(c, fe)
    assert.equal(stateRoot(c), reference, `seed ${seed}: replay after snapshot at ${cut} diverged`)

    // The histories exercise the machinery (not just rejections).
    const statuses = new Set(Object.values(h.state.proposals).map((p) => p.status))
    if (process.env.GOV_PROBE) {
      const reasons: Record<string, number> = {}
      for (const r of h.state.rejections) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1
      console.log(seed, Object.values(h.state.proposals).map((p) => p.status).join(','), Object.values(h.state.members).filter((m) => m.status === 'active').length, JSON.stringify(reasons))
    }
    assert.ok(Object.keys(h.state.proposals).length > 0 && statuses.size >= 2, `seed ${seed}: ${[...statuses]}`)
  }
})

test('determinism: the state root changes with any accepted entry and is independent of key insertion order', () => {
  const h = new GovHarness({ members: 4 })
  const r0 = stateRoot(h.state)
  const copy = cloneState(h.state)
  h.act(h.members[0]!, 'member-vouch', { candidate: idOf(testKey('n', 0)) })
  assert.notEqual(stateRoot(h.state), r0)
  assert.equal(stateRoot(copy), r0, 'cloneState is a deep copy')
  // Reversing every record's key order does not change the root (canonical JSON sorts keys).
  const reversed = JSON.parse(JSON.stringify(h.state), (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
  ) as typeof h.state
  assert.equal(stateRoot(reversed), stateRoot(h.state))
})

test('snapshots: a tampered snapshot or one of another network is refused', () => {
  const h = new GovHarness({ members: 3 })
  h.act(h.members[0]!, 'member-vouch', { candidate: idOf(testKey('n', 0)) })
  const snap = snapshotState(h.state)
  assert.equal(stateRoot(restoreState(snap, h.network)), stateRoot(h.state))
  const tampered = snap.replace('"status":"active"', '"status":"expelled"')
  assert.notEqual(tampered, snap)
  assert.throws(() => restoreState(tampered), CorruptSnapshotError)
  assert.throws(() => restoreState(snap, 'f'.repeat(64)), CorruptSnapshotError)
  assert.throws(() => restoreState('{'), CorruptSnapshotError)
})

test('advancing the clock in many small steps equals one big step', () => {
  const a = new GovHarness({ members: 3 })
  const pid = a.propose(a.members[0]!, { type: 'amend-constitution', text: 'new text' })
  a.advance(2 * HOUR)
  for (const m of a.members) a.vote(m, pid, 'yes')
  const b = cloneState(a.state)
  const end = a.time + 3 * DAY
  applyCheckpointTime(a.state, end)
  for (let t = b.time; t <= end; t += 17 * 60_000) applyCheckpointTime(b, t)
  applyCheckpointTime(b, end)
  assert.equal(a.state.proposals[pid]!.status, 'executed')
  assert.equal(stateRoot(b), stateRoot(a.state))
})
