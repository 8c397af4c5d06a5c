/**
 * `WitnessCore` (src/ledger/consensus/witness-core.ts), driven directly, n = 4, k = 3:
 * - a proposal names its evidence by the epoch sets' headers (batch.ts), so a witness judges it
 *   only once it holds the sets named: it waits for them without prevoting (Tendermint line 22),
 *   prevotes the value when the last one arrives, prevotes nil if the propose timeout comes first,
 *   and refuses a batch whose entries are not exactly those in ≥ k of the sets it names;
 * - restarted on a snapshot of an older protocol version, it stands by the epoch sets it signed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, sha256Hex } from '../../src/identity/index.js'
import { batchId, type EpochBatch } from '../../src/ledger/consensus/batch.js'
import { headerOf } from '../../src/ledger/consensus/epoch-set.js'
import { signConsensusMessage } from '../../src/ledger/consensus/messages.js'
import { proposerOf } from '../../src/ledger/consensus/tendermint.js'
import { WitnessCore, type WitnessAction, type WitnessGossip, type WitnessSnapshot } from '../../src/ledger/consensus/witness-core.js'
import { signEpochSet } from '../../src/ledger/consensus/epoch-set.js'
import { SIM_NETWORK, witnessKeys } from '../helpers/witness-sim.js'

const keys = witnessKeys(4)
const witnesses = keys.map((k) => bytesToHex(k.publicKey))
const TIMEOUTS = { propose: 100, prevote: 100, precommit: 100, delta: 50 }
const pool = [1, 2, 3].map((i) => sha256Hex(`evidence-entry-${i}`))
/** Held by witness 3 alone: in one set, below k, so never in a valid batch of this height. */
const LONE = sha256Hex('evidence-entry-lone')

function core(i: number, snapshot?: WitnessSnapshot): WitnessCore {
  const c = new WitnessCore(
    {
      network: SIM_NETWORK,
      witnesses,
      quorum: 3,
      keys: keys[i]!,
      timeouts: TIMEOUTS,
      collectGraceMs: 10,
      log: {
        treeAfter: (entries) => ({ size: entries.length, root: sha256Hex(entries.join(',')) }),
        hasEntry: () => true,
        convictedBefore: () => [],
      },
    },
    0,
    snapshot,
  )
  for (const h of pool) c.addPending(h)
  if (i === 3) c.addPending(LONE)
  return c
}

const gossipOf = (actions: readonly WitnessAction[]): WitnessGossip[] => actions.flatMap((a) => (a.kind === 'gossip' ? [a.message] : []))
const prevotesOf = (actions: readonly WitnessAction[]) =>
  gossipOf(actions).flatMap((g) => (g.kind === 'consensus' && g.message.type === 'prevote' ? [g.message] : []))

/** Four witnesses at height 0: the proposer holds every set and proposes; `judge` holds only its own. */
function setUp() {
  const cores = keys.map((_, i) => core(i))
  const started = cores.map((c) => c.startHeight(0))
  const sets = started.map((actions) => gossipOf(actions).find((g) => g.kind === 'epoch-set')!)
  const p = witnesses.indexOf(proposerOf(witnesses, 0, 0))
  const judge = (p + 1) % 4
  let proposerActions: WitnessAction[] = []
  for (let i = 0; i < 4; i++) if (i !== p) proposerActions.push(...cores[p]!.receive(sets[i]!))
  // The grace for missing sets is over at once: every set is in.
  const proposal = gossipOf(proposerActions).find((g) => g.kind === 'consensus' && g.message.type === 'proposal')
  assert.ok(proposal !== undefined && proposal.kind === 'consensus' && proposal.message.type === 'proposal', 'the proposer proposes once it holds every set')
  const batch = proposal.message.value as EpochBatch
  assert.deepEqual(batch.evidence, [...sets].map((g) => (g.kind === 'epoch-set' ? headerOf(g.set) : null)).sort((a, b) => (a!.witness < b!.witness ? -1 : 1)))
  assert.ok(JSON.stringify(batch).length < 2000, 'the proposal names the sets, it does not carry them')
  const { sig: _s, sender: _r, ...unsigned } = proposal.message
  /** The proposer's proposal with other entries; the tree is made to match them, and every witness holds every entry. */
  const forge = (entries: string[]): WitnessGossip => ({
    kind: 'consensus',
    message: signConsensusMessage<EpochBatch>({ ...unsigned, value: { ...batch, entries, tree: { size: entries.length, root: sha256Hex(entries.join(',')) } } }, keys[p]!),
  })
  return { cores, sets, p, judge, proposal, batch, forge }
}

test('a proposal whose named sets are not all held waits: no prevote until the last set arrives, then a prevote for it', () => {
  const { cores, sets, p, judge, proposal, batch } = setUp()
  const missing = [0, 1, 2, 3].filter((i) => i !== p && i !== judge)
  // The judge holds its own set and the proposer's; two named sets are still on their way.
  assert.deepEqual(prevotesOf(cores[judge]!.receive(sets[p]!)), [])
  assert.deepEqual(prevotesOf(cores[judge]!.receive(proposal)), [], 'named sets missing: neither a prevote for the value nor nil')
  assert.deepEqual(prevotesOf(cores[judge]!.receive(sets[missing[0]!]!)), [], 'one set still missing')
  const votes = prevotesOf(cores[judge]!.receive(sets[missing[1]!]!))
  assert.equal(votes.length, 1)
  assert.equal(votes[0]!.valueId, batchId(batch), 'with every named set held, the valid batch is prevoted')
})

test('a proposal still waiting for its sets at the propose timeout gets a nil prevote', () => {
  const { cores, judge, proposal } = setUp()
  assert.deepEqual(prevotesOf(cores[judge]!.receive(proposal)), [])
  const votes = prevotesOf(cores[judge]!.onTimer({ kind: 'consensus', timeout: 'propose', height: 0, round: 0 }))
  assert.equal(votes.length, 1)
  assert.equal(votes[0]!.valueId, null)
})

test('a batch whose entries are not exactly those in ≥ k of the sets it names is prevoted nil once they are held', () => {
  const { cores, sets, judge, batch, forge } = setUp()
  for (let i = 0; i < 4; i++) if (i !== judge) cores[judge]!.receive(sets[i]!)
  assert.ok(!batch.entries.includes(LONE), 'an entry in one set of four is not in the batch')
  // An entry too many (in fewer than k of the named sets): nothing but the entry check catches it.
  const votes = prevotesOf(cores[judge]!.receive(forge([...batch.entries, LONE].sort())))
  assert.equal(votes.length, 1)
  assert.equal(votes[0]!.valueId, null)
})

test('an entry too few is refused as well (by the entry check, and as censorship)', () => {
  const { cores, sets, judge, batch, forge } = setUp()
  for (let i = 0; i < 4; i++) if (i !== judge) cores[judge]!.receive(sets[i]!)
  const votes = prevotesOf(cores[judge]!.receive(forge(batch.entries.slice(1))))
  assert.equal(votes.length, 1)
  assert.equal(votes[0]!.valueId, null)
})

test('restarted on a snapshot an older protocol version wrote, a witness re-sends the epoch set it signed there instead of signing another', () => {
  // What the old version signed for height 0: a set that still verifies (epoch sets are versioned apart).
  const old = signEpochSet(SIM_NETWORK, 0, [pool[0]!], keys[1]!)
  const snapshot = { protocol: 'commons/tendermint/v2', machine: { height: 0, junk: true }, ownSets: [old, { not: 'a set' }], pending: [], forkProofs: [] } as unknown as WitnessSnapshot
  const restarted = core(1, snapshot)
  const sent = gossipOf(restarted.startHeight(0)).filter((g) => g.kind === 'epoch-set')
  assert.equal(sent.length, 1)
  assert.ok(sent[0]!.kind === 'epoch-set')
  assert.deepEqual(sent[0]!.set, old, 'the old set, not a new one over the pending pool (that would prove a fork against itself)')
  assert.equal(restarted.snapshot().protocol, 'commons/tendermint/v3')
})
