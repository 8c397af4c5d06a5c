import { test } from 'node:test'
import assert from 'node:assert/strict'
import { markSeq, type SeqRanges } from '../../src/governance/seqs.js'

test('seq ranges: any insertion order gives the merged ranges of the set, and repeats are refused', () => {
  let seed = 7
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let round = 0; round < 200; round++) {
    const seqs = new Set<number>()
    for (let i = 0; i < 40; i++) seqs.add(1 + Math.floor(rand() * 60))
    const order = [...seqs].sort(() => rand() - 0.5)
    const ranges: SeqRanges = []
    for (const s of order) assert.equal(markSeq(ranges, s), true, `first ${s}`)
    for (const s of order) assert.equal(markSeq(ranges, s), false, `repeat ${s}`)
    const expected: SeqRanges = []
    for (const s of [...seqs].sort((a, b) => a - b)) {
      const last = expected[expected.length - 1]
      if (last !== undefined && last[1] + 1 === s) last[1] = s
      else expected.push([s, s])
    }
    assert.deepEqual(ranges, expected)
  }
})

test('seq ranges: an honest author in order needs one range', () => {
  const ranges: SeqRanges = []
  for (let s = 1; s <= 1000; s++) markSeq(ranges, s)
  assert.deepEqual(ranges, [[1, 1000]])
})
