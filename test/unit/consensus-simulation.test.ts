/**
 * Tendermint witness consensus, tested the way its paper argues it (Buchman, Kwon, Milosevic 2018,
 * §4): agreement under any message delay, reordering and loss (safety never depends on timing),
 * and termination once messages arrive within the timeouts after GST. Each run is a seeded,
 * deterministic simulation of n = 4 real `WitnessCore`s with k = 3 (test/helpers/witness-sim.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkBatchEntries, validateBatch } from '../../src/ledger/consensus/batch.js'
import { conflictingHeights, forkProofEntryHash, runSimulation, simEntry, SIM_NETWORK, type SimResult } from '../helpers/witness-sim.js'
import { bytesToHex } from '../../src/identity/index.js'

const N = 4
const K = 3

function witnessesOf(result: SimResult): string[] {
  return result.keys.map((k) => bytesToHex(k.publicKey))
}

function assertValidDecisions(result: SimResult): void {
  const witnesses = witnessesOf(result)
  for (const i of result.correct) {
    for (const d of result.decisions[i]!) {
      const verdict = validateBatch(d.batch, d.height, { network: SIM_NETWORK, witnesses, quorum: K })
      assert.deepEqual(verdict, { ok: true }, `witness ${i} decided an invalid batch at height ${d.height}`)
      // The evidence travels as headers: the sets they name were sent, and hold exactly the batch at ≥ k.
      assert.deepEqual(checkBatchEntries(d.batch, result.setFor, K), { ok: true }, `witness ${i} decided entries its evidence does not hold at height ${d.height}`)
      assert.ok(d.cosigners >= K, 'a decision carries ≥ k precommits')
    }
    assert.deepEqual(
      result.decisions[i]!.map((d) => d.height),
      result.decisions[i]!.map((_, h) => h),
      'heights are decided in order, once each',
    )
  }
}

test('safety: no two correct witnesses decide differently under arbitrary delay, reordering and loss (120 seeds)', () => {
  let decisions = 0
  let multiRound = 0
  for (let seed = 1; seed <= 120; seed++) {
    const result = runSimulation({
      seed,
      heights: 2,
      maxTime: 8_000,
      // GST late in the run: most of it is asynchronous.
      gst: 4_000 + (seed % 4) * 1_000,
      maxDelayBeforeGst: 50 + (seed % 7) * 150,
      dropBeforeGst: (seed % 5) * 0.08,
      delta: 20,
      // Propose as soon as k sets are in: proposers then differ in the batches they offer.
      collectGraceMs: 0,
      partition: seed % 6 === 0 ? [[0, 1], [2, 3]] : seed % 6 === 3 ? [[0], [1, 2, 3]] : undefined,
    })
    assert.deepEqual(conflictingHeights(result), [], `seed ${seed}: conflicting decisions`)
    assertValidDecisions(result)
    for (const i of result.correct) {
      decisions += result.decisions[i]!.length
      multiRound += result.decisions[i]!.filter((d) => d.round > 0).length
    }
    for (const caught of result.caught) assert.equal(caught.size, 0, `seed ${seed}: a correct witness was accused`)
  }
  // The property is not vacuous: runs decide, many after failed rounds (locks and round changes at work).
  assert.ok(decisions > 120 * N, `only ${decisions} decisions`)
  assert.ok(multiRound > 30, `only ${multiRound} decisions after round 0`)
})

test('safety with one Byzantine witness sending conflicting proposals, votes and epoch sets to each half (100 seeds)', () => {
  let decisions = 0
  let caughtRuns = 0
  for (let seed = 1; seed <= 100; seed++) {
    const byzantine = seed % N
    const result = runSimulation({
      seed: 10_000 + seed,
      heights: 2,
      maxTime: 8_000,
      gst: 3_000 + (seed % 3) * 1_000,
      maxDelayBeforeGst: 50 + (seed % 5) * 200,
      dropBeforeGst: (seed % 4) * 0.1,
      delta: 20,
      collectGraceMs: 0,
      byzantine: { node: byzantine, mode: 'equivocate' },
    })
    assert.deepEqual(conflictingHeights(result), [], `seed ${seed}: conflicting decisions`)
    assertValidDecisions(result)
    for (const i of result.correct) {
      decisions += result.decisions[i]!.length
      // Only the Byzantine witness is ever accused.
      for (const accused of result.caught[i]!) assert.equal(accused, witnessesOf(result)[byzantine])
    }
    if (result.correct.every((i) => result.caught[i]!.size === 1)) caughtRuns++
  }
  assert.ok(decisions > 100 * (N - 1), `only ${decisions} decisions`)
  assert.ok(caughtRuns > 90, `the equivocator was caught by every correct witness in only ${caughtRuns} runs`)
})

test('liveness: after GST every correct witness decides every height, with and without a Byzantine witness (24 seeds)', () => {
  for (let seed = 1; seed <= 24; seed++) {
    const result = runSimulation({
      seed: 20_000 + seed,
      heights: 3,
      maxTime: 60_000,
      gst: 2_000,
      maxDelayBeforeGst: 1_000,
      dropBeforeGst: 0.2,
      // After GST, messages arrive well within timeoutPropose/Prevote/Precommit.
      delta: 20,
      partition: seed % 2 === 0 ? [[0, 1], [2, 3]] : undefined,
      byzantine: seed % 3 === 0 ? { node: seed % N, mode: 'equivocate' } : undefined,
    })
    for (const i of result.correct) assert.equal(result.decisions[i]!.length, 3, `seed ${seed}: witness ${i} decided ${result.decisions[i]!.length}/3`)
    assert.deepEqual(conflictingHeights(result), [])
  }
})

test('an equivocator is convicted through the log: every correct witness decides every height, and all stop counting it at the same height, the one after its fork-proof entry (100 seeds)', () => {
  let countedAfterProof = 0
  for (let seed = 1; seed <= 100; seed++) {
    const byzantine = seed % N
    const result = runSimulation({
      seed: 50_000 + seed,
      heights: 6,
      maxTime: 120_000,
      gst: 2_000,
      maxDelayBeforeGst: 300,
      dropBeforeGst: 0.1,
      delta: 20,
      byzantine: { node: byzantine, mode: 'equivocate' },
    })
    const forker = witnessesOf(result)[byzantine]!
    for (const i of result.correct) assert.equal(result.decisions[i]!.length, 6, `seed ${50_000 + seed}: witness ${i} decided ${result.decisions[i]!.length}/6`)
    assert.deepEqual(conflictingHeights(result), [], `seed ${50_000 + seed}: conflicting decisions`)
    assertValidDecisions(result)
    // Agreement makes the conviction height one value; after it the forker's precommit never decides.
    const decisions = result.decisions[result.correct[0]!]!
    const convicted = decisions.findIndex((d) => d.batch.entries.includes(forkProofEntryHash(forker)))
    assert.ok(convicted >= 0, `seed ${50_000 + seed}: the fork-proof entry became final`)
    for (const d of decisions.slice(convicted + 1)) assert.ok(!d.signers.includes(forker), `seed ${50_000 + seed}: height ${d.height} counted the convicted witness`)
    if (decisions.slice(0, convicted + 1).some((d) => d.signers.includes(forker))) countedAfterProof++
  }
  // Until then its votes count: the line is the log's, not each witness's own discovery.
  assert.ok(countedAfterProof > 0, 'in some runs the forker helped decide a height before its conviction')
})

test('liveness with an equivocator under loss, partitions and slower links before GST: every correct witness decides every height (150 seeds)', () => {
  for (let seed = 1; seed <= 150; seed++) {
    const result = runSimulation({
      seed: 70_000 + seed,
      heights: 4,
      maxTime: 40_000,
      gst: 3_000 + (seed % 3) * 1_000,
      maxDelayBeforeGst: 50 + (seed % 5) * 200,
      dropBeforeGst: (seed % 4) * 0.1,
      delta: 20 + (seed % 3) * 30,
      partition: seed % 6 === 0 ? [[0, 1], [2, 3]] : undefined,
      byzantine: { node: seed % N, mode: 'equivocate' },
    })
    for (const i of result.correct) assert.equal(result.decisions[i]!.length, 4, `seed ${70_000 + seed}: witness ${i} decided ${result.decisions[i]!.length}/4`)
    assert.deepEqual(conflictingHeights(result), [], `seed ${70_000 + seed}: conflicting decisions`)
  }
})

test('a silent proposer is replaced: the next round’s proposer gets the height decided', () => {
  // proposer(h, r) = witnesses[(h + r) mod n]: witness 0 proposes round 0 of height 0, and is down.
  const result = runSimulation({ seed: 7, heights: 1, maxTime: 10_000, gst: 0, maxDelayBeforeGst: 0, delta: 20, down: [0] })
  for (const i of [1, 2, 3]) {
    const d = result.decisions[i]![0]
    assert.ok(d !== undefined, `witness ${i} decided`)
    assert.equal(d.round, 1, 'decided in round 1, on the proposal of witness 1')
  }
  assert.deepEqual(conflictingHeights(result), [])
})

test('two witnesses down: no decision and no fork; progress resumes when one returns', () => {
  const stalled = runSimulation({ seed: 8, heights: 1, maxTime: 30_000, gst: 0, maxDelayBeforeGst: 0, delta: 20, down: [2, 3] })
  for (const i of [0, 1]) assert.equal(stalled.decisions[i]!.length, 0, 'k = 3 cannot be reached by 2 witnesses')
  for (const caught of stalled.caught) assert.equal(caught.size, 0)

  const resumed = runSimulation({
    seed: 8,
    heights: 2,
    maxTime: 60_000,
    gst: 0,
    maxDelayBeforeGst: 0,
    delta: 20,
    down: [2, 3],
    revive: { node: 3, at: 30_000 },
  })
  for (const i of [0, 1, 3]) {
    assert.equal(resumed.decisions[i]!.length, 2, `witness ${i} decided both heights`)
    assert.ok(resumed.decisions[i]![0]!.time >= 30_000, 'nothing was decided before the witness returned')
  }
  assert.deepEqual(conflictingHeights(resumed), [])
  for (const caught of resumed.caught) assert.equal(caught.size, 0, 'the returning witness did not equivocate')
})

test('a censoring proposer cannot keep out, beyond its own round, an entry held by ≥ k witnesses', () => {
  const censored = simEntry(1_000)
  for (let seed = 1; seed <= 10; seed++) {
    // Witness 0 proposes round 0 of height 0 and picks evidence that keeps `censored` below k.
    const result = runSimulation({
      seed: 30_000 + seed,
      heights: 1,
      maxTime: 10_000,
      gst: 0,
      maxDelayBeforeGst: 0,
      delta: 20,
      byzantine: { node: 0, mode: 'censor' },
      censored,
    })
    assert.ok(result.censoringProposals > 0, `seed ${seed}: the censor proposed without the entry`)
    for (const i of [1, 2, 3]) {
      const d = result.decisions[i]![0]
      assert.ok(d !== undefined, `seed ${seed}: witness ${i} decided`)
      assert.ok(d.batch.entries.includes(censored), `seed ${seed}: the censored entry is in the decided batch`)
      assert.ok(d.round <= 1, `seed ${seed}: decided in round ${d.round}`)
    }
  }
})

test('a witness restarted mid-round re-arms its timers: with one witness down, a crash right after a height starts does not stall the others', () => {
  // Witness 3 is down for good; the proposer of height 3, round 0 is witness 3. Witness 2 crashes
  // just after starting height 3: witnesses 0 and 1 time out, prevote nil, and wait for a third
  // prevote. Witness 2 comes back in the propose step of round 0, where only its own
  // timeoutPropose can move it: timers do not survive a process, so it must arm them again.
  for (const seed of [1, 2, 3]) {
    const r = runSimulation({ seed, heights: 6, maxTime: 60_000, gst: 0, maxDelayBeforeGst: 0, delta: 20, down: [3], crash: { node: 2, atHeight: 3, downFor: 5_000 } })
    for (const i of [0, 1, 2]) assert.equal(r.decisions[i]!.length, 6, `seed ${seed}: witness ${i} decided every height`)
    assert.ok(r.decisions[0]![3]!.time >= 5_000, 'height 3 waited for the restarted witness')
    assert.deepEqual(conflictingHeights(r), [])
    for (const caught of r.caught) assert.equal(caught.size, 0, 'the restarted witness did not equivocate')
  }
})
