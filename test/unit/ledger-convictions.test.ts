// Where a convicted witness stops counting: the store's rule for checkpoints (countsAt) and the
// consensus rule for heights (bindsFromHeight) must agree where it matters, or witnesses would
// decide a height with a forker's precommit whose checkpoint the stores then judge not final.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bindsFromHeight, countsAt, type Conviction } from '../../src/ledger/convictions.js'

const W = 'aa'.repeat(32)

test('countsAt: by epoch when both have one, else by size; unconvicted witnesses always count', () => {
  const byEpoch = new Map<string, Conviction>([[W, { epoch: 5, size: 40 }]])
  assert.equal(countsAt(byEpoch, W, { epoch: 5, size: 40 }), true, 'the checkpoint that made the proof final')
  assert.equal(countsAt(byEpoch, W, { epoch: 6, size: 40 }), false, 'a later, empty epoch')
  assert.equal(countsAt(byEpoch, W, { epoch: undefined, size: 41 }), false)
  assert.equal(countsAt(byEpoch, 'bb'.repeat(32), { epoch: 9, size: 99 }), true)
  const bySize = new Map<string, Conviction>([[W, { epoch: undefined, size: 40 }]])
  assert.equal(countsAt(bySize, W, { epoch: 6, size: 40 }), true)
  assert.equal(countsAt(bySize, W, { epoch: 6, size: 41 }), false)
})

test('bindsFromHeight: a witness not banned at a height counts for every checkpoint that height can decide', () => {
  for (const conviction of [
    { epoch: 5, size: 40 },
    { epoch: undefined, size: 40 },
  ] satisfies Conviction[]) {
    const convictions = new Map([[W, conviction]])
    // A conviction is known once the checkpoint that made it (size c.size) is stored, so logs are
    // at least that large; a log of `size` entries at height h decides a checkpoint of epoch h and
    // size ≥ size.
    for (let h = 2; h <= 8; h++) {
      for (let size = conviction.size; size <= conviction.size + 3; size++) {
        if (bindsFromHeight(conviction, h, size)) continue
        for (let later = size; later <= size + 3; later++) {
          assert.equal(countsAt(convictions, W, { epoch: h, size: later }), true, `${JSON.stringify(conviction)} h=${h} size=${size} → ${later}`)
        }
      }
    }
  }
  assert.equal(bindsFromHeight({ epoch: 5, size: 40 }, 5, 40), false, 'the epoch that made it final still counts it (the others decided it)')
  assert.equal(bindsFromHeight({ epoch: 5, size: 40 }, 6, 40), true)
  assert.equal(bindsFromHeight({ epoch: undefined, size: 40 }, 9, 40), true, 'a non-empty batch at that size would not count it')
  assert.equal(bindsFromHeight({ epoch: undefined, size: 40 }, 9, 39), false)
})
