// Sync against peers that lie: the syncing node verifies k cosignatures, the consistency proof
// and every entry (and the recomputed root) before storing anything. The peers are in-process
// fakes over a real LogStore (the libp2p transport is tested in test/e2e/log-sync.test.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  BadProofError,
  LogStore,
  NotFinalError,
  SyncError,
  checkpointForkProof,
  cosignCheckpoint,
  decodeEntry,
  originOf,
  syncFrom,
  type DecodedEntry,
  type LogPeer,
} from '../../src/ledger/index.js'
import { bytesToHex } from '../../src/identity/index.js'
import { authorKeys, checkpointFork, finalize, forkProofEntry, notes, tempDir, testGenesis, witnessKeys } from './ledger-helpers.js'

const genesis = testGenesis()

/** A peer answering from a real store, with optional lies injected. */
class FakeLogPeer implements LogPeer {
  constructor(
    readonly store: LogStore,
    readonly lies: {
      note?: string
      entry?: (index: number, bytes: Uint8Array) => Uint8Array
      proof?: 'empty'
      /** Rewrites the batch checkpoints it hands out (e.g. leaves one out). */
      checkpoints?: (notes: string[]) => string[]
    } = {},
    /** Most checkpoints per answer (a real peer pages at MAX_CHECKPOINTS). */
    readonly page = 1000,
  ) {}
  async checkpoint(): Promise<string | null> {
    return this.lies.note ?? this.store.latestFinalCheckpoint()?.note ?? null
  }
  async checkpoints(after: number, upTo: number): Promise<string[]> {
    const notes = this.store.finalCheckpoints(after, upTo, this.page).map((c) => c.note)
    return this.lies.checkpoints ? this.lies.checkpoints(notes) : notes
  }
  async consistency(from: number, to: number) {
    return this.lies.proof === 'empty' ? [] : this.store.consistencyProof(from, to)
  }
  async entries(from: number, to: number) {
    return this.store.entries(from, to).map((e) => (this.lies.entry ? this.lies.entry(e.index, e.bytes) : e.bytes))
  }
}

function stores(dir: string, serverEntries: number, clientEntries: number): { a: LogStore; b: LogStore } {
  const a = LogStore.open(join(dir, 'a.db'), { genesis })
  const b = LogStore.open(join(dir, 'b.db'), { genesis })
  const all = notes(genesis, serverEntries)
  a.append(all)
  finalize(a)
  if (clientEntries > 0) {
    b.append(all.slice(0, clientEntries))
  }
  return { a, b }
}

test('a node catches up from an honest peer, from empty and from a prefix', async () => {
  const t = tempDir('commons-sync-')
  try {
    const { a, b } = stores(t.dir, 250, 0)
    const r = await syncFrom(b, new FakeLogPeer(a), { rangeSize: 16, threads: 0 })
    assert.deepEqual([r.status, r.from, r.to], ['synced', 0, 250])
    assert.equal(b.rootHex(), a.rootHex())
    assert.equal(b.latestFinalCheckpoint()?.size, 250)
    a.append(notes(genesis, 30, authorKeys[1]!))
    finalize(a)
    const r2 = await syncFrom(b, new FakeLogPeer(a), { threads: 0 })
    assert.deepEqual([r2.status, r2.from, r2.to], ['synced', 250, 280])
    assert.equal(b.rootHex(), a.rootHex())
    const r3 = await syncFrom(b, new FakeLogPeer(a), { threads: 0 })
    assert.equal(r3.status, 'up-to-date')
    a.close()
    b.close()
  } finally {
    t.cleanup()
  }
})

test('a checkpoint without k valid cosignatures is never accepted', async () => {
  const t = tempDir('commons-sync-')
  try {
    const { a, b } = stores(t.dir, 40, 0)
    const weak = cosignCheckpoint({ origin: originOf(genesis), size: 40, root: a.root(), extensions: [] }, witnessKeys.slice(0, 2), 5)
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { note: weak }), { threads: 0 }), NotFinalError)
    assert.equal(b.size(), 0)
    a.close()
    b.close()
  } finally {
    t.cleanup()
  }
})

test('a tampered entry, entries that miss the root, or a forked peer store nothing', async () => {
  const t = tempDir('commons-sync-')
  try {
    const { a, b } = stores(t.dir, 120, 20)
    const flip = (at: number) => (i: number, bytes: Uint8Array) => {
      if (i !== at) return bytes
      const c = new Uint8Array(bytes)
      c[c.length - 40] ^= 1
      return c
    }
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { entry: flip(77) }), { threads: 0 }), (e: unknown) => e instanceof SyncError && /entry 77/.test(e.message))
    assert.equal(b.size(), 20)
    // Valid entries, but not the ones in the checkpoint's tree (swapped order).
    const swap = (i: number, bytes: Uint8Array) => (i === 50 ? a.entry(51)!.bytes : i === 51 ? a.entry(50)!.bytes : bytes)
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { entry: swap }), { threads: 0 }), BadProofError)
    assert.equal(b.size(), 20)
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { proof: 'empty' }), { threads: 0 }), BadProofError)
    // A peer whose final log diverges from ours: inconsistent with our prefix.
    const t2 = tempDir('commons-sync-fork-')
    const c = LogStore.open(join(t2.dir, 'c.db'), { genesis })
    c.append(notes(genesis, 60, authorKeys[1]!))
    finalize(c)
    await assert.rejects(syncFrom(b, new FakeLogPeer(c), { threads: 0 }), BadProofError)
    assert.equal(b.size(), 20)
    c.close()
    t2.cleanup()
    // After all that, the honest peer still works.
    assert.equal((await syncFrom(b, new FakeLogPeer(a), { threads: 0 })).to, 120)
    a.close()
    b.close()
  } finally {
    t.cleanup()
  }
})

/** Appends `count` notes of `author` (if any) and stores the k-cosigned checkpoint closing `epoch`. */
function decideEpoch(store: LogStore, epoch: number, count: number, author = authorKeys[0]!, signers = [0, 1, 2], before: DecodedEntry[] = []): string {
  const from = store.size()
  store.append([...before, ...(count > 0 ? notes(genesis, count, author, store.lastSeq(bytesToHex(author.publicKey)) + 1) : [])])
  const note = cosignCheckpoint(
    { origin: originOf(genesis), size: store.size(), root: store.root(), extensions: [`epoch ${epoch}`, `from ${from}`] },
    signers.map((i) => witnessKeys[i]!),
    1_700_000_000 + epoch,
  )
  store.addCheckpoint(note)
  return note
}

/** (size, epoch) of every batch checkpoint (an empty log's has no entries to date), and the latest (size, epoch). */
const history = (s: LogStore) => ({
  batches: s.checkpoints().filter((c) => c.final && c.size > 0).map((c) => [c.size, c.epoch]),
  latest: [s.latestFinalCheckpoint()?.size, s.latestFinalCheckpoint()?.epoch],
})

test('sync carries every batch checkpoint: the synced node has the live node\'s (entry → epoch) history, in pages', async () => {
  const t = tempDir('commons-sync-hist-')
  try {
    const a = LogStore.open(join(t.dir, 'a.db'), { genesis })
    const b = LogStore.open(join(t.dir, 'b.db'), { genesis })
    // Epochs 0..9 with entries in 1, 2, 5, 6 and 8; the others decide nothing.
    const counts = [0, 3, 2, 0, 0, 4, 1, 0, 7, 0]
    counts.forEach((n, epoch) => decideEpoch(a, epoch, n))
    assert.deepEqual(history(a).batches, [[3, 1], [5, 2], [9, 5], [10, 6], [17, 8]])
    const r = await syncFrom(b, new FakeLogPeer(a, {}, 2), { rangeSize: 4, threads: 0 })
    assert.deepEqual([r.status, r.to, r.checkpoints], ['synced', 17, 5])
    assert.deepEqual(history(b), history(a))
    assert.deepEqual(history(b).latest, [17, 9])
    // More epochs on the peer, some empty: a second sync adds the new batches only.
    decideEpoch(a, 10, 0)
    decideEpoch(a, 11, 2, authorKeys[1]!)
    decideEpoch(a, 12, 0)
    const r2 = await syncFrom(b, new FakeLogPeer(a), { threads: 0 })
    assert.deepEqual([r2.status, r2.from, r2.to, r2.checkpoints], ['synced', 17, 19, 1])
    assert.deepEqual(history(b), history(a))
    // Up to date in entries, but the peer decided another empty epoch: the latest moves.
    decideEpoch(a, 13, 0)
    assert.equal((await syncFrom(b, new FakeLogPeer(a), { threads: 0 })).status, 'up-to-date')
    assert.deepEqual(history(b), history(a))
    a.close()
    b.close()
  } finally {
    t.cleanup()
  }
})

test('a peer that leaves out or reorders batch checkpoints is caught, and nothing is stored', async () => {
  const t = tempDir('commons-sync-hist-')
  try {
    const a = LogStore.open(join(t.dir, 'a.db'), { genesis })
    const b = LogStore.open(join(t.dir, 'b.db'), { genesis })
    decideEpoch(a, 1, 3)
    decideEpoch(a, 2, 0)
    decideEpoch(a, 3, 2)
    decideEpoch(a, 4, 4)
    decideEpoch(a, 5, 0)
    // Hiding epoch 3's checkpoint would give its entries epoch 4's time.
    const skip = (notes: string[]) => notes.filter((n) => !n.includes('\nepoch 3\n'))
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { checkpoints: skip }), { threads: 0 }), (e: unknown) => e instanceof BadProofError && /left out/.test(e.message))
    assert.deepEqual([b.size(), b.checkpoints().length], [0, 0])
    // Hiding them all: the latest (an empty epoch, from 9) shows the gap too.
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { checkpoints: () => [] }), { threads: 0 }), BadProofError)
    // Out of order.
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { checkpoints: (n) => [...n].reverse() }), { threads: 0 }), (e: unknown) => e instanceof BadProofError || e instanceof SyncError)
    // A checkpoint with too few cosignatures among them.
    const weak = (n: string[]) => n.map((note, i) => (i === 1 ? note.split('\n').slice(0, -2).join('\n') + '\n' : note))
    await assert.rejects(syncFrom(b, new FakeLogPeer(a, { checkpoints: weak }), { threads: 0 }), NotFinalError)
    assert.deepEqual([b.size(), b.checkpoints().length], [0, 0])
    assert.equal((await syncFrom(b, new FakeLogPeer(a), { threads: 0 })).to, 9)
    assert.deepEqual(history(b), history(a))
    a.close()
    b.close()
  } finally {
    t.cleanup()
  }
})

test('a sync cut short resumes: entries held without their checkpoint get it from the next sync', async () => {
  const t = tempDir('commons-sync-hist-')
  try {
    const a = LogStore.open(join(t.dir, 'a.db'), { genesis })
    const b = LogStore.open(join(t.dir, 'b.db'), { genesis })
    decideEpoch(a, 1, 4)
    decideEpoch(a, 2, 6)
    decideEpoch(a, 3, 0)
    // b holds the first 7 entries but only the checkpoint of size 4 (killed mid-batch).
    b.append(a.entries(0, 4).map((e) => ({ ...decodeEntry(e.bytes, b.network) })))
    b.addCheckpoint(a.checkpoint(4)!.note)
    b.append(a.entries(4, 7).map((e) => ({ ...decodeEntry(e.bytes, b.network) })))
    const r = await syncFrom(b, new FakeLogPeer(a), { threads: 0 })
    assert.deepEqual([r.status, r.from, r.to, r.checkpoints], ['synced', 7, 10, 1])
    assert.deepEqual(history(b), history(a))
    a.close()
    b.close()
  } finally {
    t.cleanup()
  }
})

test('sync carries convictions: the forker counts up to the checkpoint that made its fork-proof entry final, and a peer checkpoint after it that needs the forker is refused', async () => {
  const t = tempDir('commons-sync-fork-')
  try {
    const a = LogStore.open(join(t.dir, 'a.db'), { genesis })
    decideEpoch(a, 3, 4)
    // Witness 0's fork proof is made final in epoch 5, cosigned by 0, 1, 2 (k = 3: witness 0 is needed).
    decideEpoch(a, 5, 2, authorKeys[0], [0, 1, 2], [forkProofEntry(genesis, checkpointFork(genesis, 0, 4))])
    decideEpoch(a, 6, 1, authorKeys[0], [1, 2, 3])
    const w = bytesToHex(witnessKeys[0]!.publicKey)
    assert.deepEqual([...a.convictions()], [[w, { epoch: 5, size: 7 }]])
    const b = LogStore.open(join(t.dir, 'b.db'), { genesis })
    const r = await syncFrom(b, new FakeLogPeer(a), { rangeSize: 3, threads: 0 })
    assert.deepEqual([r.status, r.to], ['synced', 8])
    assert.deepEqual(history(b), history(a))
    assert.deepEqual([...b.convictions()], [...a.convictions()])
    // A peer whose epoch-6 checkpoint is cosigned by 0, 1, 2: final only if witness 0 still
    // counted, which the entries the sync brings say it does not. The latest note passes the
    // first check (the new node knows of no conviction yet); the chain is judged again.
    const forged = cosignCheckpoint({ ...a.latestFinalCheckpoint()!, origin: originOf(genesis), extensions: ['epoch 6', 'from 7'] }, witnessKeys.slice(0, 3), 1_700_000_006)
    const liar = new FakeLogPeer(a, { note: forged, checkpoints: (notes) => notes.map((n) => (n === a.latestFinalCheckpoint()!.note ? forged : n)) })
    const c = LogStore.open(join(t.dir, 'c.db'), { genesis })
    await assert.rejects(syncFrom(c, liar, { threads: 0 }), NotFinalError)
    assert.deepEqual([c.size(), c.latestFinalCheckpoint()?.epoch], [7, 5], 'the batches proven before it are kept, nothing of it')
    assert.deepEqual([...c.convictions()], [...a.convictions()])
    // Up to date but for the latest note: the same judgement.
    await assert.rejects(syncFrom(b, liar, { threads: 0 }), NotFinalError)
    for (const s of [a, b, c]) s.close()
  } finally {
    t.cleanup()
  }
})
