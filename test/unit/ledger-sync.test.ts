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
  cosignCheckpoint,
  originOf,
  syncFrom,
  type LogPeer,
} from '../../src/ledger/index.js'
import { authorKeys, finalize, notes, tempDir, testGenesis, witnessKeys } from './ledger-helpers.js'

const genesis = testGenesis()

/** A peer answering from a real store, with optional lies injected. */
class FakeLogPeer implements LogPeer {
  constructor(
    readonly store: LogStore,
    readonly lies: { note?: string; entry?: (index: number, bytes: Uint8Array) => Uint8Array; proof?: 'empty' } = {},
  ) {}
  async checkpoint(): Promise<string | null> {
    return this.lies.note ?? this.store.latestFinalCheckpoint()?.note ?? null
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
    const r = await syncFrom(b, new FakeLogPeer(a), { rangeSize: 64, threads: 0 })
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
