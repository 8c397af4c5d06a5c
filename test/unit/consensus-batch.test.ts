/**
 * Epoch batches (src/ledger/consensus/batch.ts) and fork proofs (fork-proof.ts): a batch is exactly
 * the entries present in ≥ k of the signed epoch sets it carries, ordered by hash; anything else
 * is invalid, and a witness signing two different sets, or two different votes, is provably faulty.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, keyPairFromSecret, sha256, sha256Hex } from '../../src/identity/index.js'
import { batchId, buildBatch, censoredEntries, validateBatch, type EpochBatch } from '../../src/ledger/consensus/batch.js'
import { signEpochSet, verifyEpochSet } from '../../src/ledger/consensus/epoch-set.js'
import { epochSetFork, forkProofId, verifyForkProof, voteFork } from '../../src/ledger/consensus/fork-proof.js'
import { signConsensusMessage } from '../../src/ledger/consensus/messages.js'
import { InvalidForkProofError } from '../../src/ledger/consensus/errors.js'

const NETWORK = sha256Hex('batch-unit')
const keys = [0, 1, 2, 3].map((i) => keyPairFromSecret(sha256(`batch-unit-${i}`)))
const W = keys.map((k) => bytesToHex(k.publicKey))
const RULES = { network: NETWORK, witnesses: W, quorum: 3 }
const e = (i: number): string => sha256Hex(`entry-${i}`)
const TREE = { size: 0, root: sha256Hex('') }

// Who holds what at the end of epoch 7: e1 by all, e2 by three, e3 by two, e4 by one.
const sets = [
  signEpochSet(NETWORK, 7, [e(1), e(2), e(3)], keys[0]!),
  signEpochSet(NETWORK, 7, [e(2), e(1), e(4)], keys[1]!),
  signEpochSet(NETWORK, 7, [e(1), e(2), e(3)], keys[2]!),
  signEpochSet(NETWORK, 7, [e(1)], keys[3]!),
]

function batchOf(built: ReturnType<typeof buildBatch>): EpochBatch {
  assert.ok(built !== null)
  return { epoch: 7, ...built, tree: TREE }
}

test('signed epoch sets are sorted, de-duplicated and verifiable; tampering breaks them', () => {
  const set = signEpochSet(NETWORK, 7, [e(3), e(1), e(3)], keys[0]!)
  assert.deepEqual(set.entries, [e(1), e(3)].sort())
  assert.equal(verifyEpochSet(set), true)
  assert.equal(verifyEpochSet({ ...set, entries: [e(1)] }), false)
  assert.equal(verifyEpochSet({ ...set, epoch: 8 }), false)
})

test('buildBatch takes the entries in ≥ k sets, ordered by hash, with the sets as evidence ordered by witness', () => {
  const built = buildBatch(sets, 3)!
  assert.deepEqual(built.entries, [e(1), e(2)].sort())
  assert.deepEqual(built.evidence.map((s) => s.witness), [...W].sort())
  assert.equal(buildBatch(sets.slice(0, 2), 3), null, 'fewer than k sets: no batch')
  // With only 3 sets, e2 (in sets 0, 1, 2) stays; e1 too.
  assert.deepEqual(buildBatch([sets[0]!, sets[1]!, sets[3]!], 3)!.entries, [e(1)])
  assert.deepEqual(validateBatch(batchOf(built), 7, RULES), { ok: true })
})

test('validateBatch rejects every batch that is not exactly the ≥ k entries of its evidence', () => {
  const good = batchOf(buildBatch(sets, 3))
  const bad = (b: EpochBatch): string => {
    const v = validateBatch(b, 7, RULES)
    assert.equal(v.ok, false)
    return v.ok ? '' : v.reason
  }
  bad({ ...good, entries: good.entries.filter((h) => h !== e(2)) })
  bad({ ...good, entries: [...good.entries, e(3)].sort() })
  bad({ ...good, entries: [...good.entries].reverse() })
  bad({ ...good, evidence: good.evidence.slice(0, 2) })
  bad({ ...good, evidence: [good.evidence[0]!, good.evidence[0]!, good.evidence[1]!] })
  bad({ ...good, evidence: [...good.evidence].reverse() })
  bad({ ...good, evidence: good.evidence.map((s, i) => (i === 0 ? { ...s, entries: [e(9)] } : s)) })
  assert.equal(validateBatch(good, 8, RULES).ok, false, 'another epoch')
  assert.equal(validateBatch(good, 7, { ...RULES, witnesses: W.slice(1) }).ok, false, 'evidence from a non-witness')
  assert.equal(validateBatch(good, 7, { ...RULES, network: sha256Hex('other') }).ok, false)
})

test('batchId is a function of the whole batch, evidence included', () => {
  const a = batchOf(buildBatch(sets, 3))
  const b = batchOf(buildBatch(sets.slice(0, 3), 3))
  assert.deepEqual(a.entries, b.entries)
  assert.notEqual(batchId(a), batchId(b))
  assert.equal(batchId(a), batchId(JSON.parse(JSON.stringify(a)) as EpochBatch))
})

test('censoredEntries: evidence chosen to keep an entry below k is caught by a witness that knows more sets', () => {
  // e2 is in sets 0, 1, 2; a censor carrying sets 0, 1, 3 keeps it out "validly".
  const censoring = batchOf(buildBatch([sets[0]!, sets[1]!, sets[3]!], 3))
  assert.deepEqual(validateBatch(censoring, 7, RULES), { ok: true })
  assert.deepEqual(censoredEntries(censoring, [sets[2]!], 3), [e(2)])
  assert.deepEqual(censoredEntries(batchOf(buildBatch(sets, 3)), sets, 3), [])
})

test('fork proofs: two sets for one epoch, or two votes in one round, prove a fork; anything else does not', () => {
  const other = signEpochSet(NETWORK, 7, [e(9)], keys[0]!)
  const proof = epochSetFork(sets[0]!, other)
  assert.equal(verifyForkProof(proof, NETWORK, W, 3), W[0])
  assert.equal(forkProofId(proof), forkProofId(epochSetFork(other, sets[0]!)), 'one fork, one id')
  assert.throws(() => verifyForkProof(epochSetFork(sets[0]!, sets[0]!), NETWORK, W, 3), InvalidForkProofError)
  assert.throws(() => verifyForkProof(epochSetFork(sets[0]!, signEpochSet(NETWORK, 8, [e(9)], keys[0]!)), NETWORK, W, 3), InvalidForkProofError)
  assert.throws(() => verifyForkProof(proof, NETWORK, W.slice(1), 3), InvalidForkProofError)

  const pc = (value: string | null, round = 0) =>
    signConsensusMessage<unknown>({ type: 'precommit', network: NETWORK, height: 3, round, valueId: value }, keys[1]!)
  assert.equal(verifyForkProof(voteFork(pc(e(1)), pc(e(2))), NETWORK, W, 3), W[1])
  assert.equal(verifyForkProof(voteFork(pc(e(1)), pc(null)), NETWORK, W, 3), W[1])
  assert.throws(() => verifyForkProof(voteFork(pc(e(1)), pc(e(2), 1)), NETWORK, W, 3), InvalidForkProofError, 'different rounds are no fork')
  const forged = { ...pc(e(2)), sig: pc(e(3)).sig }
  assert.throws(() => verifyForkProof(voteFork(pc(e(1)), forged), NETWORK, W, 3), InvalidForkProofError)
})
