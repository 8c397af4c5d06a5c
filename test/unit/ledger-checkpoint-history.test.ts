// Checkpoint history in the log store: the first final checkpoint of a size (the epoch that made
// its entries final) is kept for good; later epochs with no new entry only move the latest final
// checkpoint, which survives a restart. appendFinal stores entries and checkpoint atomically.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { BadCheckpointError, LogStore, batchStartOf, cosignCheckpoint, originOf, parseSignedCheckpoint, type DecodedEntry } from '../../src/ledger/index.js'
import { authorKeys, notes, tempDir, testGenesis, witnessKeys } from './ledger-helpers.js'

const genesis = testGenesis()

/** The checkpoint witnesses sign when `epoch` ends with the log at its current size (from = size before the batch). */
function epochNote(store: LogStore, epoch: number, from: number, signers = 3, size = store.size()): string {
  return cosignCheckpoint(
    { origin: originOf(genesis), size, root: store.treeHash(size), extensions: [`epoch ${epoch}`, `from ${from}`] },
    witnessKeys.slice(0, signers),
    1_700_000_000 + epoch,
  )
}

test('an empty epoch does not replace the checkpoint that included the entries; the latest moves and survives a restart', () => {
  const t = tempDir('commons-cphist-')
  try {
    const path = join(t.dir, 'log.db')
    let store = LogStore.open(path, { genesis })
    store.append(notes(genesis, 5))
    const first = store.addCheckpoint(epochNote(store, 1, 0))
    assert.equal(first.final, true)
    // Epochs 2 and 3 decide no entry: same size, later epoch.
    store.addCheckpoint(epochNote(store, 2, 5))
    const third = store.addCheckpoint(epochNote(store, 3, 5))
    assert.equal(third.final, true)
    assert.equal(store.checkpoint(5)!.epoch, 1, 'the including checkpoint stays')
    assert.equal(store.checkpoint(5)!.note, first.note)
    assert.equal(store.checkpoints().length, 1)
    assert.equal(store.latestFinalCheckpoint()!.epoch, 3)
    assert.equal(store.latestFinalCheckpoint()!.size, 5)
    // An older epoch arriving late (a slow peer) does not move the latest back.
    store.addCheckpoint(epochNote(store, 2, 5))
    assert.equal(store.latestFinalCheckpoint()!.epoch, 3)
    store.close()

    store = LogStore.open(path, { genesis })
    assert.equal(store.latestFinalCheckpoint()!.epoch, 3)
    assert.equal(store.checkpoint(5)!.epoch, 1)
    // The next batch: a new size gets its own including checkpoint.
    store.append(notes(genesis, 2, authorKeys[1]!))
    store.addCheckpoint(epochNote(store, 4, 5))
    assert.deepEqual(store.checkpoints().map((c) => [c.size, c.epoch]), [[5, 1], [7, 4]])
    assert.deepEqual(store.finalCheckpoints(0, 7, 10).map((c) => c.size), [5, 7])
    assert.deepEqual(store.finalCheckpoints(5, 7, 10).map((c) => c.size), [7])
    assert.deepEqual(store.finalCheckpoints(0, 7, 1).map((c) => c.size), [5])
    assert.equal(batchStartOf(parseSignedCheckpoint(store.checkpoint(7)!.note).checkpoint), 5)
    assert.equal(store.latestFinalCheckpoint()!.epoch, 4)
    store.close()
  } finally {
    t.cleanup()
  }
})

test('cosignatures of the same checkpoint merge; a non-final checkpoint of a size gives way to a final one', () => {
  const t = tempDir('commons-cphist-')
  try {
    const store = LogStore.open(join(t.dir, 'log.db'), { genesis })
    store.append(notes(genesis, 3))
    // Epoch 1 gathered only 2 of the 3 cosignatures needed here.
    assert.equal(store.addCheckpoint(epochNote(store, 1, 0, 2)).final, false)
    assert.equal(store.latestFinalCheckpoint(), undefined)
    // Epoch 2 closes the same tree with k cosignatures: it is the first FINAL one.
    assert.equal(store.addCheckpoint(epochNote(store, 2, 0)).final, true)
    assert.equal(store.checkpoint(3)!.epoch, 2)
    // A third cosignature of epoch 2's note arrives later: merged into the same body.
    const late = cosignCheckpoint(
      { origin: originOf(genesis), size: 3, root: store.root(), extensions: ['epoch 2', 'from 0'] },
      [witnessKeys[3]!],
      1_700_000_002,
    )
    const merged = store.addCheckpoint(late)
    assert.equal(merged.final, true)
    assert.equal(store.checkpoint(3)!.note.split('\u2014').length - 1, 4, 'four cosignatures kept')
    assert.equal(store.latestFinalCheckpoint()!.note, store.checkpoint(3)!.note)
    store.close()
  } finally {
    t.cleanup()
  }
})

test('appendFinal stores the entries and their checkpoint together, or nothing', () => {
  const t = tempDir('commons-cphist-')
  try {
    const store = LogStore.open(join(t.dir, 'log.db'), { genesis })
    const batch: DecodedEntry[] = notes(genesis, 4)
    // A checkpoint whose root is not the tree after the batch: neither is stored.
    const wrong = cosignCheckpoint({ origin: originOf(genesis), size: 4, root: new Uint8Array(32).fill(7), extensions: ['epoch 0', 'from 0'] }, witnessKeys.slice(0, 3), 1)
    assert.throws(() => store.appendFinal(batch, wrong), BadCheckpointError)
    assert.equal(store.size(), 0)
    assert.equal(store.entry(0), undefined)
    assert.equal(store.checkpoints().length, 0)
    // The in-memory tree was rolled back too: the same batch appends cleanly afterwards.
    const scratch = LogStore.open(join(t.dir, 'scratch.db'), { genesis })
    scratch.append(batch)
    const note = epochNote(scratch, 0, 0)
    scratch.close()
    const r = store.appendFinal(batch, note)
    assert.deepEqual([r.appended.firstIndex, r.appended.size, r.checkpoint.final], [0, 4, true])
    assert.equal(store.checkpoint(4)!.epoch, 0)
    store.close()
    // Reopening verifies the stored tree against the checkpoint.
    LogStore.open(join(t.dir, 'log.db'), { genesis }).close()
  } finally {
    t.cleanup()
  }
})
