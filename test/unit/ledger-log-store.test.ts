// LogStore over a real SQLite file: durable appends, replay rejection, proofs identical to the
// pure RFC 9162 functions, checkpoints (finality, fork detection against our tree), pending
// entries, fork proofs banning a witness, and the integrity check on open naming the bad index.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { bytesToHex } from '../../src/identity/index.js'
import {
  BadCheckpointError,
  BadProofError,
  LogCorruptError,
  LogStore,
  ReplayedSeqError,
  WrongNetworkError,
  type ForkProof,
  checkpointForkProof,
  parseSignedCheckpoint,
  verifyForkProof,
  consistencyProof,
  verifyLog,
  cosignCheckpoint,
  createGenesis,
  inclusionProof,
  leafHash,
  originOf,
  rootHash,
  TreeAppender,
  verifyConsistency,
  verifyInclusion,
  decodeEntry,
  encodeEntry,
  signEntry,
} from '../../src/ledger/index.js'
import { signConsensusMessage, type VoteMessage } from '../../src/ledger/consensus/messages.js'
import { authorKeys, checkpointFork, finalize, forkProofEntry, notes, tempDir, testGenesis, witnessKeys } from './ledger-helpers.js'

const genesis = testGenesis()

test('append is all-or-nothing, rejects replays, and survives reopening', () => {
  const t = tempDir('commons-log-')
  try {
    const path = join(t.dir, 'commons.db')
    let store = LogStore.open(path, { genesis })
    const batch = notes(genesis, 10)
    const r = store.append(batch.slice(0, 6))
    assert.deepEqual([r.firstIndex, r.size], [0, 6])
    assert.throws(() => store.append([batch[6]!, batch[2]!]), ReplayedSeqError, 'replay of a logged entry')
    assert.equal(store.size(), 6, 'failed batch left nothing behind')
    assert.throws(() => store.append([batch[6]!, batch[6]!]), ReplayedSeqError, 'duplicate inside a batch')
    // Same (author, seq), different content: still a replay of the seq.
    const again = notes(genesis, 1, authorKeys[0]!, 3)
    assert.notEqual(again[0]!.hash, batch[2]!.hash)
    assert.throws(() => store.append(again), ReplayedSeqError)
    store.append(batch.slice(6))
    store.append(notes(genesis, 3, authorKeys[1]!))
    assert.equal(store.lastSeq(bytesToHex(authorKeys[0]!.publicKey)), 10)
    const root = store.rootHex()
    store.close()
    store = LogStore.open(path, { genesis })
    assert.equal(store.size(), 13)
    assert.equal(store.rootHex(), root)
    assert.equal(store.entry(4)!.hash, batch[4]!.hash)
    assert.equal(store.indexOf(batch[7]!.hash), 7)
    store.close()
    const other = createGenesis({ ...genesis, network: 'othernet' })
    assert.throws(() => LogStore.open(path, { genesis: other }), WrongNetworkError)
  } finally {
    t.cleanup()
  }
})

test('stored roots and proofs equal the pure RFC 9162 functions', () => {
  const t = tempDir('commons-log-')
  try {
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    const all = notes(genesis, 77)
    for (let i = 0; i < all.length; i += 10) store.append(all.slice(i, i + 10))
    const leaves = all.map((d) => leafHash(d.bytes))
    for (const n of [1, 5, 33, 64, 77]) {
      assert.equal(bytesToHex(store.treeHash(n)), bytesToHex(rootHash(leaves.slice(0, n))))
      const i = n - 1
      assert.deepEqual(store.inclusionProof(i, n).map(bytesToHex), inclusionProof(i, leaves.slice(0, n)).map(bytesToHex))
      assert.ok(verifyInclusion(leaves[i]!, i, n, store.inclusionProof(i, n), store.treeHash(n)))
      assert.deepEqual(store.consistencyProof(Math.min(3, n), n).map(bytesToHex), consistencyProof(Math.min(3, n), leaves.slice(0, n)).map(bytesToHex))
      const m = Math.min(3, n)
      assert.ok(verifyConsistency(m, n, store.consistencyProof(m, n), store.treeHash(m), store.treeHash(n)))
    }
    assert.throws(() => store.treeHash(78), RangeError)
    store.close()
  } finally {
    t.cleanup()
  }
})

test('checkpoints: final with k cosignatures, merged across notes, rejected if they disagree with our tree', () => {
  const t = tempDir('commons-log-')
  try {
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    store.append(notes(genesis, 5))
    const cp = { origin: originOf(genesis), size: 5, root: store.root(), extensions: ['epoch 1'] }
    const two = store.addCheckpoint(cosignCheckpoint(cp, witnessKeys.slice(0, 2), 10))
    assert.equal(two.final, false)
    assert.equal(store.latestFinalCheckpoint(), undefined)
    const merged = store.addCheckpoint(cosignCheckpoint(cp, witnessKeys.slice(2, 3), 11))
    assert.equal(merged.final, true, '2 + 1 cosignatures from distinct witnesses')
    assert.equal(merged.epoch, 1)
    assert.equal(store.latestFinalCheckpoint()!.size, 5)
    assert.throws(() => store.addCheckpoint(cosignCheckpoint({ ...cp, root: new Uint8Array(32) }, witnessKeys, 1)), BadCheckpointError)
    assert.throws(() => store.addCheckpoint(cosignCheckpoint({ ...cp, size: 6 }, witnessKeys, 1)), BadCheckpointError)
    assert.throws(() => store.addCheckpoint(cosignCheckpoint({ ...cp, origin: 'x/y' }, witnessKeys, 1)), BadCheckpointError)
    store.close()
  } finally {
    t.cleanup()
  }
})

test('one pending entry per (author, seq): a second one is refused, and appending a seq drops what else was pending with it', () => {
  const t = tempDir('commons-log-')
  try {
    const path = join(t.dir, 'commons.db')
    const store = LogStore.open(path, { genesis })
    const network = store.network
    // Two different entries an author signed with one seq (say, an edit resent with the same counter).
    const twin = (text: string) => decodeEntry(encodeEntry(signEntry({ network, kind: 'note', seq: 7, time: 1, body: { text } }, authorKeys[0]!)), network)
    const [first, second] = [twin('first'), twin('second')]
    assert.notEqual(first.hash, second.hash)
    assert.equal(store.addPending(first), true)
    assert.equal(store.addPending(first), false, 'the same entry again: idempotent')
    assert.throws(() => store.addPending(second), ReplayedSeqError, 'both pending, both could enter one batch that no log could append')
    assert.deepEqual(store.pending().map((p) => p.hash), [first.hash])
    assert.equal(store.pendingTwin(first.entry.author, 7), first.hash)
    store.close()

    // A database from before this rule, holding both twins: upgrading keeps the lower hash only.
    const raw = new Database(path)
    raw.exec("DROP INDEX log_pending_author_seq; DELETE FROM schema_migrations WHERE component = 'log' AND version = 3")
    raw.prepare('INSERT INTO log_pending (hash, author, seq, data, received_at) VALUES (?, ?, ?, ?, ?)').run(Buffer.from(second.hash, 'hex'), second.entry.author, 7, second.bytes, 2)
    raw.close()
    const upgraded = LogStore.open(path, { genesis })
    assert.deepEqual(upgraded.pending().map((p) => p.hash), [[first.hash, second.hash].sort()[0]])
    upgraded.close()

    // Another node held the second; the first is what became final.
    const other = LogStore.open(join(t.dir, 'other.db'), { genesis })
    other.addPending(second)
    other.addPending(notes(genesis, 1, authorKeys[1]!)[0]!)
    other.append([first])
    assert.equal(other.pending().length, 1, 'the second can never be final: it left the pending pool')
    assert.notEqual(other.pending()[0]!.hash, second.hash)
    other.close()
  } finally {
    t.cleanup()
  }
})

test('pending entries; a fork proof alone is evidence and binds nobody until it is in the log', () => {
  const t = tempDir('commons-log-')
  try {
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    const [a, b] = notes(genesis, 2)
    assert.equal(store.addPending(a!), true)
    assert.equal(store.addPending(a!), false, 'idempotent')
    assert.equal(store.pending().length, 1)
    assert.equal(store.nextSeq(a!.entry.author), 2, 'a pending seq is taken')
    store.append([a!])
    assert.equal(store.pending().length, 0, 'appending removes it from pending')
    assert.throws(() => store.addPending(a!), ReplayedSeqError)
    store.addPending(b!)
    assert.equal(store.nextSeq(a!.entry.author), 3)
    const w = bytesToHex(witnessKeys[0]!.publicKey)
    const origin = originOf(genesis)
    const x = cosignCheckpoint({ origin, size: 1, root: store.root(), extensions: [] }, witnessKeys.slice(0, 3), 1)
    const y = cosignCheckpoint({ origin, size: 1, root: new Uint8Array(32).fill(1), extensions: [] }, witnessKeys.slice(0, 3), 2)
    assert.throws(() => store.addForkProof(checkpointForkProof(w, x, x)), BadProofError)
    // Lone cosignatures of two trees prove nothing: a correct witness cosigns each round's batch it precommits.
    const lone = (note: string) => cosignCheckpoint(parseSignedCheckpoint(note).checkpoint, [witnessKeys[0]!], 1)
    assert.throws(() => store.addForkProof(checkpointForkProof(w, lone(x), lone(y))), BadProofError)
    assert.equal(store.addForkProof(checkpointForkProof(w, x, y)), w)
    assert.equal(store.forkProofs().length, 1)
    assert.equal(store.convictions().size, 0, 'not in the log: nobody is convicted')
    const cp = store.addCheckpoint(cosignCheckpoint({ origin, size: 1, root: store.root(), extensions: [] }, witnessKeys.slice(0, 3), 3))
    assert.equal(cp.final, true, 'witness 0 still counts')
    store.close()
  } finally {
    t.cleanup()
  }
})

test('on open, a stored byte that disagrees with the tree or the final checkpoint refuses to start, naming the index', () => {
  const t = tempDir('commons-log-')
  try {
    const path = join(t.dir, 'commons.db')
    const store = LogStore.open(path, { genesis })
    store.append(notes(genesis, 20))
    finalize(store)
    store.close()
    const raw = new Database(path)
    const data = raw.prepare('SELECT data FROM log_entries WHERE idx = 13').pluck().get() as Buffer
    data[data.length - 3] ^= 1
    raw.prepare('UPDATE log_entries SET data = ? WHERE idx = 13').run(data)
    raw.close()
    assert.throws(() => LogStore.open(path, { genesis }), (err: unknown) => err instanceof LogCorruptError && err.index === 13 && /index 13/.test(err.message))
    // An attacker who also rewrites the tree consistently is caught by the final checkpoint's root.
    const fix = new Database(path)
    const rows = fix.prepare('SELECT data FROM log_entries ORDER BY idx').pluck().all() as Buffer[]
    const appender = TreeAppender.empty()
    fix.prepare('DELETE FROM log_tree').run()
    const put = fix.prepare('INSERT INTO log_tree (id, hash) VALUES (?, ?)')
    for (const row of rows) for (const h of appender.append(leafHash(new Uint8Array(row)))) put.run(h.index, Buffer.from(h.hash))
    fix.close()
    assert.throws(
      () => LogStore.open(path, { genesis }),
      (err: unknown) => err instanceof LogCorruptError && /differs from the last final checkpoint/.test(err.message) && err.index === 19,
    )
  } finally {
    t.cleanup()
  }
})

test('a fork-proof entry convicts from the checkpoint after the one that made it final: the same line in the store and in log verify', async () => {
  const t = tempDir('commons-log-')
  try {
    const path = join(t.dir, 'commons.db')
    const store = LogStore.open(path, { genesis })
    const origin = originOf(genesis)
    const w = bytesToHex(witnessKeys[0]!.publicKey)
    const cosigned = (epoch: number, signers: number[], time: number) =>
      cosignCheckpoint({ origin, size: store.size(), root: store.root(), extensions: [`epoch ${epoch}`] }, signers.map((i) => witnessKeys[i]!), time)
    store.append(notes(genesis, 4))
    assert.equal(store.addCheckpoint(cosigned(3, [0, 1, 2], 1)).final, true)
    // Witness 0 forked in epoch 4; the proof reaches the log in the batch of epoch 5, and a
    // fork-proof entry that proves nothing (a statement against itself) rides along.
    const proof = checkpointFork(genesis, 0, 4)
    const one = checkpointFork(genesis, 1, 4)
    const bogus = { ...one, b: one.a } as ForkProof
    store.append([forkProofEntry(genesis, proof), forkProofEntry(genesis, bogus, authorKeys[1], 2), ...notes(genesis, 1, authorKeys[0], 5)])
    assert.equal(store.convictions().size, 0, 'appended, not final yet')
    assert.equal(store.addCheckpoint(cosigned(5, [0, 1, 2], 2)).final, true, 'the checkpoint that makes the proof final still counts witness 0')
    assert.deepEqual([...store.convictions()], [[w, { epoch: 5, size: 7 }]])
    assert.deepEqual(store.witnessPolicy().witnesses, witnessKeys.slice(1).map((k) => bytesToHex(k.publicKey)))
    store.append(notes(genesis, 1, authorKeys[0], 6))
    assert.equal(store.addCheckpoint(cosigned(6, [0, 1, 2], 3)).final, false, 'epoch 6: witness 0 no longer counts')
    assert.equal(store.addCheckpoint(cosigned(6, [1, 2, 3], 4)).final, true)
    assert.equal(store.addCheckpoint(cosigned(7, [0, 1, 2], 5)).final, false, 'nor for a later epoch of the same size')
    store.close()

    const report = await verifyLog(path, genesis, { threads: 0 })
    assert.equal(report.ok, true, JSON.stringify(report.failure))
    assert.equal(report.finalSize, 8)
    // A checkpoint after the conviction marked final on the strength of witness 0 is caught...
    const raw = new Database(path)
    const atSix = cosignCheckpoint({ origin, size: 8, root: new Uint8Array((raw.prepare('SELECT root FROM log_checkpoints WHERE size = 8').pluck().get() as Buffer)), extensions: ['epoch 6'] }, witnessKeys.slice(0, 3), 3)
    assert.equal(raw.prepare('UPDATE log_checkpoints SET note = ?, final = 1 WHERE size = 8').run(atSix).changes, 1)
    raw.close()
    const bad = await verifyLog(path, genesis, { threads: 0 })
    assert.deepEqual([bad.ok, bad.failure?.kind, bad.failure?.index, bad.failure?.code], [false, 'checkpoint', 8, 'not_final'])
    // ...and so is a kind column rewritten to hide the fork-proof entry from the store.
    const hide = new Database(path)
    hide.prepare("UPDATE log_entries SET kind = 'note' WHERE idx = 4").run()
    hide.close()
    const hidden = await verifyLog(path, genesis, { threads: 0 })
    assert.deepEqual([hidden.ok, hidden.failure?.index, hidden.failure?.code], [false, 4, 'bad_index_row'])
  } finally {
    t.cleanup()
  }
})

/** Witness 2's precommit at height 3 for `valueId`: two of them for different values are a vote fork proof. */
const precommitOf = (network: string, valueId: string, round = 0): VoteMessage =>
  signConsensusMessage<unknown>({ type: 'precommit', network, height: 3, round, valueId }, witnessKeys[2]!) as VoteMessage

test('a junk accusation in the log shields nobody: accusedInLog() and convictions() count only entries that prove the fork', () => {
  const t = tempDir('commons-log-')
  try {
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    const w = bytesToHex(witnessKeys[2]!.publicKey)
    const precommit = (valueId: string) => precommitOf(store.network, valueId)
    // The forker files first: one precommit twice, schema-valid and signed, but no fork.
    const junk: ForkProof = { type: 'vote', witness: w, a: precommit('11'.repeat(32)), b: precommit('11'.repeat(32)) }
    store.append([forkProofEntry(genesis, junk), ...notes(genesis, 1)])
    finalize(store, 3, 2)
    assert.deepEqual([...store.accusedInLog()], [], 'the witness would skip filing a real proof against an accused witness')
    assert.deepEqual([...store.convictions()], [])
    const real: ForkProof = { ...junk, b: precommit('22'.repeat(32)) }
    store.append([forkProofEntry(genesis, real, authorKeys[1], 2)])
    finalize(store, 3, 3)
    assert.deepEqual([...store.accusedInLog()], [w])
    assert.deepEqual([...store.convictions()], [[w, { epoch: 3, size: 3 }]])
    store.close()
  } finally {
    t.cleanup()
  }
})

test('a vote fork proof (two precommits of one round) is a fork-proof entry body like the others, and convicts once final', () => {
  const t = tempDir('commons-log-')
  try {
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    const network = store.network
    const w = bytesToHex(witnessKeys[2]!.publicKey)
    const precommit = (valueId: string, round = 0) => precommitOf(network, valueId, round)
    const proof: ForkProof = { type: 'vote', witness: w, a: precommit('11'.repeat(32)), b: precommit('22'.repeat(32)) }
    assert.equal(verifyForkProof(proof, { network }), true)
    assert.equal(verifyForkProof({ ...proof, b: precommit('11'.repeat(32)) }, { network }), false, 'one message twice is no fork')
    assert.equal(verifyForkProof({ ...proof, b: precommit('22'.repeat(32), 1) }, { network }), false, 'two rounds are no fork')
    assert.equal(verifyForkProof({ ...proof, witness: bytesToHex(witnessKeys[1]!.publicKey) }, { network }), false, 'signed by another witness')
    assert.equal(verifyForkProof(proof, { network: '00'.repeat(32) }), false, 'another network')
    // A proposal carries its value beside a made-up valueId: the signature covers the value's id,
    // the conflict check would read the claimed one. The strict schema refuses such a statement.
    const proposal = signConsensusMessage<unknown>({ type: 'proposal', network, height: 3, round: 0, value: { any: 'batch' }, validRound: -1 }, witnessKeys[2]!)
    const claimed = (id: string) => ({ ...proposal, valueId: id }) as unknown as VoteMessage
    assert.equal(verifyForkProof({ type: 'vote', witness: w, a: claimed('11'.repeat(32)), b: claimed('22'.repeat(32)) }, { network }), false, 'one proposal with two claimed ids')
    store.append([forkProofEntry(genesis, proof), ...notes(genesis, 1)])
    finalize(store, 3, 3)
    assert.deepEqual([...store.convictions()], [[w, { epoch: 3, size: 2 }]])
    store.close()
  } finally {
    t.cleanup()
  }
})
