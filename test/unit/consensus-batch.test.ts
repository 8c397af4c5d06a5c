/**
 * Epoch batches (src/ledger/consensus/batch.ts) and fork proofs (fork-proof.ts): a batch is exactly
 * the entries present in ≥ k of the signed epoch sets it names, ordered by hash; anything else
 * is invalid, and a witness signing two different sets, or two different votes, is provably faulty.
 * A batch names its sets by their signed headers, so its size does not grow with the witnesses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, keyPairFromSecret, sha256, sha256Hex } from '../../src/identity/index.js'
import { MAX_BATCH_ENTRIES, batchId, buildBatch, censoredEntries, checkBatchEntries, validateBatch, type EpochBatch } from '../../src/ledger/consensus/batch.js'
import { MAX_EPOCH_SET_ENTRIES, headerOf, signEpochSet, verifyEpochSet, type EpochSet, type EpochSetHeader } from '../../src/ledger/consensus/epoch-set.js'
import { WitnessGossipSchema, type WitnessGossip } from '../../src/ledger/consensus/witness-core.js'
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

/** Looks a header up among `held` sets, as a witness does among the sets it received. */
const resolverOf =
  (held: readonly EpochSet[]) =>
  (h: EpochSetHeader): EpochSet | undefined =>
    held.find((s) => s.witness === h.witness && headerOf(s).digest === h.digest)

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
  assert.deepEqual(built.evidence, [...sets].sort((a, b) => (a.witness < b.witness ? -1 : 1)).map(headerOf), 'evidence: the sets\' headers')
  assert.equal(buildBatch(sets.slice(0, 2), 3), null, 'fewer than k sets: no batch')
  // With only 3 sets, e2 (in sets 0, 1, 2) stays; e1 too.
  assert.deepEqual(buildBatch([sets[0]!, sets[1]!, sets[3]!], 3)!.entries, [e(1)])
  assert.deepEqual(validateBatch(batchOf(built), 7, RULES), { ok: true })
  assert.deepEqual(checkBatchEntries(batchOf(built), resolverOf(sets), 3), { ok: true })
})

test('validateBatch and checkBatchEntries reject every batch that is not exactly the ≥ k entries of its evidence', () => {
  const good = batchOf(buildBatch(sets, 3))
  const resolve = resolverOf(sets)
  const bad = (b: EpochBatch): void => {
    const v = validateBatch(b, 7, RULES)
    const entries = v.ok ? checkBatchEntries(b, resolve, 3) : v
    assert.ok(entries !== 'missing' && !entries.ok, JSON.stringify(b).slice(0, 200))
  }
  bad({ ...good, entries: good.entries.filter((h) => h !== e(2)) })
  bad({ ...good, entries: [...good.entries, e(3)].sort() })
  bad({ ...good, entries: [...good.entries].reverse() })
  bad({ ...good, evidence: good.evidence.slice(0, 2) })
  bad({ ...good, evidence: [good.evidence[0]!, good.evidence[0]!, good.evidence[1]!] })
  bad({ ...good, evidence: [...good.evidence].reverse() })
  // A header whose digest was changed no longer carries its witness's signature.
  bad({ ...good, evidence: good.evidence.map((h, i) => (i === 0 ? { ...h, digest: sha256Hex('other') } : h)) })
  assert.equal(validateBatch(good, 8, RULES).ok, false, 'another epoch')
  assert.equal(validateBatch(good, 7, { ...RULES, witnesses: W.slice(1) }).ok, false, 'evidence from a non-witness')
  assert.equal(validateBatch(good, 7, { ...RULES, network: sha256Hex('other') }).ok, false)
  // Without the full sets no verdict on the entries can be given.
  assert.equal(checkBatchEntries(good, resolverOf(sets.slice(1)), 3), 'missing')
  // A witness's other (equivocating) set named instead: the entries must follow the set named.
  const twin = signEpochSet(NETWORK, 7, [e(1), e(3)], keys[1]!)
  const withTwin = batchOf(buildBatch([sets[0]!, twin, sets[2]!, sets[3]!], 3))
  assert.deepEqual(withTwin.entries, [e(1), e(3)].sort())
  assert.deepEqual(checkBatchEntries(withTwin, resolverOf([...sets, twin]), 3), { ok: true })
  assert.deepEqual(checkBatchEntries({ ...withTwin, entries: good.entries }, resolverOf([...sets, twin]), 3), { ok: false, reason: 'entries are not exactly those in ≥ k evidence sets' })
})

test('an epoch set holds at most MAX_EPOCH_SET_ENTRIES, the oldest pending first; a batch may hold more, and the largest proposal fits one gossip frame', () => {
  const pool = Array.from({ length: MAX_EPOCH_SET_ENTRIES + 500 }, (_, i) => e(i))
  const full = signEpochSet(NETWORK, 7, pool, keys[0]!)
  assert.equal(full.entries.length, MAX_EPOCH_SET_ENTRIES)
  assert.deepEqual(new Set(full.entries), new Set(pool.slice(0, MAX_EPOCH_SET_ENTRIES)), 'the first (oldest) entries of the pool, the newest wait')
  assert.equal(verifyEpochSet(full), true)
  // One more entry than the cap: refused by the wire schema, so never evidence.
  const over = signEpochSet(NETWORK, 7, pool.slice(1, MAX_EPOCH_SET_ENTRIES + 1), keys[0]!)
  assert.equal(verifyEpochSet({ ...over, entries: [...over.entries, e(-1)].sort() }), false)

  // Full sets that each miss a different quarter: every entry is in exactly 3 of the 4, so the
  // batch holds 20,000 entries, more than one set. It must be valid, or that height never decides.
  const wide = Array.from({ length: 20_000 }, (_, i) => e(i))
  const quarters = keys.map((k, q) => signEpochSet(NETWORK, 7, wide.filter((_, i) => Math.floor(i / 5000) !== q), k))
  const wideBatch = batchOf(buildBatch(quarters, 3))
  assert.equal(wideBatch.entries.length, 20_000)
  assert.deepEqual(validateBatch(wideBatch, 7, RULES), { ok: true })
  assert.deepEqual(checkBatchEntries(wideBatch, resolverOf(quarters), 3), { ok: true })

  // The largest proposal: MAX_BATCH_ENTRIES entries, evidence from 64 witnesses. Named by headers
  // it stays near 1.5 MiB; carrying the sets (as before) it would have been ~44 times that.
  const many = Array.from({ length: 64 }, (_, i) => keyPairFromSecret(sha256(`batch-unit-many-${i}`)))
  const headers = many.map((k) => headerOf(signEpochSet(NETWORK, 7, [], k))).sort((a, b) => (a.witness < b.witness ? -1 : 1))
  const largest = Array.from({ length: MAX_BATCH_ENTRIES }, (_, i) => e(i)).sort()
  const batch: EpochBatch = { epoch: 7, entries: largest, evidence: headers, tree: TREE }
  const proposal: WitnessGossip = {
    kind: 'consensus',
    message: signConsensusMessage<EpochBatch>({ type: 'proposal', network: NETWORK, height: 7, round: 0, value: batch, validRound: -1 }, keys[0]!),
  }
  const bytes = new TextEncoder().encode(JSON.stringify(proposal)).length
  assert.ok(WitnessGossipSchema.safeParse(JSON.parse(JSON.stringify(proposal))).success, 'a well-formed proposal')
  assert.ok(bytes < 1.6 * 1024 * 1024, `proposal of ${bytes} bytes`)
  const tooMany: EpochBatch = { ...batch, entries: [...largest, 'f'.repeat(64)] }
  assert.equal(validateBatch(tooMany, 7, { ...RULES, witnesses: many.map((k) => bytesToHex(k.publicKey)) }).ok, false, 'past MAX_BATCH_ENTRIES')
  assert.deepEqual(validateBatch(batch, 7, { ...RULES, witnesses: many.map((k) => bytesToHex(k.publicKey)) }), { ok: true })
  const setBytes = new TextEncoder().encode(JSON.stringify({ kind: 'epoch-set', set: full })).length
  assert.ok(setBytes < 1.1 * 1024 * 1024, `full set of ${setBytes} bytes`)
})

test('batchId is a function of the whole batch, evidence included', () => {
  const a = batchOf(buildBatch(sets, 3))
  const b = batchOf(buildBatch(sets.slice(0, 3), 3))
  assert.deepEqual(a.entries, b.entries)
  assert.notEqual(batchId(a), batchId(b))
  assert.equal(batchId(a), batchId(JSON.parse(JSON.stringify(a)) as EpochBatch))
})

test('censoredEntries: evidence chosen to keep an entry below k is caught by a witness that knows more sets', () => {
  // e2 is in sets 0, 1, 2; a censor naming sets 0, 1, 3 keeps it out "validly".
  const chosen = [sets[0]!, sets[1]!, sets[3]!]
  const censoring = batchOf(buildBatch(chosen, 3))
  assert.deepEqual(validateBatch(censoring, 7, RULES), { ok: true })
  assert.deepEqual(checkBatchEntries(censoring, resolverOf(sets), 3), { ok: true })
  assert.deepEqual(censoredEntries(censoring, [...chosen, sets[2]!], 3), [e(2)])
  assert.deepEqual(censoredEntries(censoring, chosen, 3), [], 'a witness that knows no more sets sees nothing censored')
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
