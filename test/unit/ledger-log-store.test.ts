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
  checkpointForkProof,
  consistencyProof,
  forkEpoch,
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
} from '../../src/ledger/index.js'
import { authorKeys, finalize, notes, tempDir, testGenesis, witnessKeys } from './ledger-helpers.js'

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

test('pending entries, and a fork proof bans the equivocating witness', () => {
  const t = tempDir('commons-log-')
  try {
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    const [a, b] = notes(genesis, 2)
    assert.equal(store.addPending(a!), true)
    assert.equal(store.addPending(a!), false, 'idempotent')
    assert.equal(store.pending().length, 1)
    store.append([a!])
    assert.equal(store.pending().length, 0, 'appending removes it from pending')
    assert.throws(() => store.addPending(a!), ReplayedSeqError)
    store.addPending(b!)
    const w = bytesToHex(witnessKeys[0]!.publicKey)
    const origin = originOf(genesis)
    const x = cosignCheckpoint({ origin, size: 1, root: store.root(), extensions: [] }, [witnessKeys[0]!], 1)
    const y = cosignCheckpoint({ origin, size: 1, root: new Uint8Array(32).fill(1), extensions: [] }, [witnessKeys[0]!], 2)
    assert.throws(() => store.addForkProof(checkpointForkProof(w, x, x)), BadProofError)
    assert.equal(store.addForkProof(checkpointForkProof(w, x, y)), w)
    assert.deepEqual([...store.bannedWitnesses()], [w])
    assert.equal(store.forkProofs().length, 1)
    // With witness 0 banned, cosignatures from 0,1,2 are only 2 valid: not final.
    const cp = store.addCheckpoint(cosignCheckpoint({ origin, size: 1, root: store.root(), extensions: [] }, witnessKeys.slice(0, 3), 3))
    assert.equal(cp.final, false)
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

test('a fork proof does not undo history: the forker still counts for checkpoints of epochs before its fork, in the store and in log verify', async () => {
  const t = tempDir('commons-log-')
  try {
    const path = join(t.dir, 'commons.db')
    const store = LogStore.open(path, { genesis })
    const origin = originOf(genesis)
    const w = bytesToHex(witnessKeys[0]!.publicKey)
    // Epochs 3 and 4: final with witness 0's cosignature among the k = 3 (nobody knew of a fork yet).
    store.append(notes(genesis, 4))
    assert.equal(store.addCheckpoint(cosignCheckpoint({ origin, size: 4, root: store.root(), extensions: ['epoch 3'] }, witnessKeys.slice(0, 3), 1)).final, true)
    // Witness 0 then signs two different trees for epoch 6: a fork proof whose fork epoch is 6.
    const forged = cosignCheckpoint({ origin, size: 4, root: new Uint8Array(32).fill(7), extensions: ['epoch 6'] }, [witnessKeys[0]!], 2)
    const honest = cosignCheckpoint({ origin, size: 4, root: store.root(), extensions: ['epoch 6'] }, [witnessKeys[0]!], 2)
    const proof = checkpointForkProof(w, forged, honest)
    assert.equal(forkEpoch(proof), 6)
    store.addForkProof(proof)
    assert.deepEqual([...store.bannedFrom()], [[w, 6]])
    // Before the fork its signature counts; from the fork epoch on it does not.
    store.append(notes(genesis, 2, authorKeys[0], 5))
    const before = store.addCheckpoint(cosignCheckpoint({ origin, size: 6, root: store.root(), extensions: ['epoch 5'] }, witnessKeys.slice(0, 3), 3))
    assert.equal(before.final, true, 'epoch 5 < 6: witness 0 still counts')
    store.append(notes(genesis, 1, authorKeys[0], 7))
    const atFork = cosignCheckpoint({ origin, size: 7, root: store.root(), extensions: ['epoch 6'] }, witnessKeys.slice(0, 3), 4)
    const after = store.addCheckpoint(atFork)
    assert.equal(after.final, false, 'epoch 6: witness 0 no longer counts')
    assert.equal(store.addCheckpoint(cosignCheckpoint({ origin, size: 7, root: store.root(), extensions: ['epoch 7'] }, witnessKeys.slice(1, 4), 5)).final, true)
    store.close()

    // log verify agrees: the history before the fork stays final.
    const report = await verifyLog(path, genesis, { threads: 0 })
    assert.equal(report.ok, true, JSON.stringify(report.failure))
    assert.equal(report.finalSize, 7)
    // A checkpoint of the fork's epoch marked final on the strength of the forker is caught.
    const raw = new Database(path)
    assert.equal(raw.prepare('UPDATE log_checkpoints SET note = ?, final = 1 WHERE size = 7').run(atFork).changes, 1)
    raw.close()
    const bad = await verifyLog(path, genesis, { threads: 0 })
    assert.deepEqual([bad.ok, bad.failure?.kind, bad.failure?.index, bad.failure?.code], [false, 'checkpoint', 7, 'not_final'])
  } finally {
    t.cleanup()
  }
})
