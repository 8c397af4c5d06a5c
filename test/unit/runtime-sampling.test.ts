import { test } from 'node:test'
import assert from 'node:assert/strict'
import { philox4x32, uniform, gumbel } from '../../src/runtime/prf.js'
import {
  GREEDY_CANDIDATES,
  MAX_CANDIDATES,
  candidatesNeeded,
  penalizedTokens,
  sampleToken,
  topCandidates,
} from '../../src/runtime/sampling.js'
import type { SamplingParams } from '../../src/runtime/engine.js'

const base: SamplingParams = {
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  repeatPenalty: 1,
  repeatLastN: 64,
  seed: 42,
  maxTokens: 16,
  stop: [],
}

function hex(words: Uint32Array): string[] {
  return Array.from(words, (w) => w.toString(16).padStart(8, '0'))
}

test('Philox4x32-10 matches the Random123 known-answer vectors', () => {
  // Random123 tests/kat_vectors, philox4x32 10 rounds.
  assert.deepEqual(hex(philox4x32(0, 0, 0, 0, 0, 0)), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8'])
  assert.deepEqual(
    hex(philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)),
    ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd'],
  )
  assert.deepEqual(
    hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)),
    ['d16cfe09', '94fdcceb', '5001e420', '24126ea1'],
  )
})

test('uniform draws are in (0, 1), depend only on (seed, t, i), and look uniform', () => {
  assert.equal(uniform(7, 3, 11), uniform(7, 3, 11))
  assert.notEqual(uniform(7, 3, 11), uniform(8, 3, 11))
  assert.notEqual(uniform(7, 3, 11), uniform(7, 4, 11))
  assert.notEqual(uniform(7, 3, 11), uniform(7, 3, 12))
  let sum = 0
  const n = 20000
  const buckets = new Array<number>(10).fill(0)
  for (let i = 0; i < n; i++) {
    const u = uniform(1, i, 0)
    assert.ok(u > 0 && u < 1)
    sum += u
    buckets[Math.floor(u * 10)]!++
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`)
  for (const b of buckets) assert.ok(Math.abs(b / n - 0.1) < 0.01, `bucket ${b / n}`)
  assert.ok(Number.isFinite(gumbel(1, 2, 3)))
})

test('greedy picks the highest logit (smaller id on ties) with logprob 0', () => {
  const greedy = { ...base, temperature: 0 }
  assert.deepEqual(sampleToken({ ids: [5, 9, 2], logits: [1, 3, 2] }, greedy, 0, new Set()), { id: 9, logprob: 0 })
  assert.equal(sampleToken({ ids: [9, 4], logits: [3, 3] }, greedy, 0, new Set()).id, 4)
})

test('Gumbel-max draws follow softmax(logits / T) and report its logprob', () => {
  const logits = [2, 1, 0, -1]
  const ids = [10, 11, 12, 13]
  const T = 0.7
  const z = logits.reduce((s, l) => s + Math.exp(l / T), 0)
  const expected = logits.map((l) => Math.exp(l / T) / z)
  const counts = new Map<number, number>()
  const n = 20000
  for (let t = 0; t < n; t++) {
    const s = sampleToken({ ids, logits }, { ...base, temperature: T }, t, new Set())
    counts.set(s.id, (counts.get(s.id) ?? 0) + 1)
    const j = ids.indexOf(s.id)
    assert.ok(Math.abs(s.logprob - Math.log(expected[j]!)) < 1e-9)
  }
  for (const [j, id] of ids.entries()) {
    const freq = (counts.get(id) ?? 0) / n
    assert.ok(Math.abs(freq - expected[j]!) < 0.015, `token ${id}: ${freq} vs ${expected[j]}`)
  }
})

test('the choice is independent of candidate order and reproducible for (seed, t)', () => {
  const ids = Array.from({ length: 50 }, (_, i) => i * 3)
  const logits = ids.map((i) => Math.sin(i) * 3)
  const shuffledIds = [...ids].reverse()
  const shuffledLogits = [...logits].reverse()
  for (let t = 0; t < 200; t++) {
    const a = sampleToken({ ids, logits }, base, t, new Set())
    const b = sampleToken({ ids: shuffledIds, logits: shuffledLogits }, base, t, new Set())
    assert.deepEqual(a, b)
  }
  const seqA = Array.from({ length: 30 }, (_, t) => sampleToken({ ids, logits }, base, t, new Set()).id)
  const seqB = Array.from({ length: 30 }, (_, t) => sampleToken({ ids, logits }, { ...base, seed: 43 }, t, new Set()).id)
  assert.notDeepEqual(seqA, seqB)
})

test('top_k, top_p and min_p restrict the draw to the expected tokens', () => {
  // probabilities at T = 1: ln-weights chosen so p ≈ [0.5, 0.3, 0.15, 0.05]
  const p = [0.5, 0.3, 0.15, 0.05]
  const logits = p.map(Math.log)
  const ids = [0, 1, 2, 3]
  const seen = (params: SamplingParams): Set<number> => {
    const s = new Set<number>()
    for (let t = 0; t < 2000; t++) s.add(sampleToken({ ids, logits }, params, t, new Set()).id)
    return s
  }
  assert.deepEqual(seen(base), new Set([0, 1, 2, 3]))
  assert.deepEqual(seen({ ...base, topK: 2 }), new Set([0, 1]))
  assert.deepEqual(seen({ ...base, topP: 0.75 }), new Set([0, 1]))
  assert.deepEqual(seen({ ...base, topP: 0.81 }), new Set([0, 1, 2]))
  assert.deepEqual(seen({ ...base, minP: 0.25 }), new Set([0, 1, 2]))
  assert.deepEqual(seen({ ...base, minP: 0.5 }), new Set([0, 1]))
  // The logprob is renormalized over the kept tokens.
  const s = sampleToken({ ids, logits }, { ...base, topK: 2 }, 0, new Set())
  assert.ok(Math.abs(s.logprob - Math.log(p[s.id]! / 0.8)) < 1e-9)
})

test('repeat penalty divides positive and multiplies negative logits of recent tokens', () => {
  const greedy = { ...base, temperature: 0, repeatPenalty: 2, repeatLastN: 2 }
  const penalized = penalizedTokens(greedy, [7, 1, 2])
  assert.deepEqual(penalized, new Set([1, 2]))
  // token 1: 3 → 1.5 loses to token 3 (2)
  assert.equal(sampleToken({ ids: [1, 3], logits: [3, 2] }, greedy, 0, penalized).id, 3)
  // token 2: -1 → -2 loses to token 5 (-1.5)
  assert.equal(sampleToken({ ids: [2, 5], logits: [-1, -1.5] }, greedy, 0, penalized).id, 5)
  assert.equal(penalizedTokens({ ...greedy, repeatPenalty: 1 }, [1, 2]).size, 0)
  assert.equal(penalizedTokens({ ...greedy, repeatLastN: -1 }, [4, 1, 2]).size, 3)
})

test('the top candidatesNeeded logits give the same draw as the full vocabulary', () => {
  const vocab = 3000
  const full = Float32Array.from({ length: vocab }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 43758.5453 % 8))
  const context = [5, 17, 99, 2500, 5, 1234]
  for (const params of [
    { ...base, repeatPenalty: 1.3, topK: 40, temperature: 0.8 },
    { ...base, repeatPenalty: 1.3, topK: 1, temperature: 0 },
    { ...base, repeatPenalty: 1.3, topK: 0, temperature: 0 },
    { ...base, repeatPenalty: 1.1, topK: 0, topP: 0.9, temperature: 1.2 },
  ]) {
    const penalized = penalizedTokens(params, context)
    const needed = candidatesNeeded(params, penalized)
    assert.ok(needed <= MAX_CANDIDATES + penalized.size)
    const top = topCandidates(full, needed)
    const all = topCandidates(full, vocab)
    for (let t = 0; t < 50; t++) {
      const fromTop = sampleToken(top, params, t, penalized)
      const fromFull = sampleToken(all, params, t, penalized)
      assert.deepEqual(fromTop, fromFull)
    }
  }
})

test('a greedy draw needs only GREEDY_CANDIDATES candidates and still breaks ties by the smaller id', () => {
  const greedy = { ...base, temperature: 0, topK: 0, repeatPenalty: 1 }
  assert.equal(candidatesNeeded(greedy, new Set()), GREEDY_CANDIDATES)
  assert.equal(candidatesNeeded({ ...greedy, temperature: 0.5 }, new Set()), MAX_CANDIDATES)
  // Three tokens tie for the best logit; the tail is lower. The smaller id wins even when the
  // candidates arrive in another order.
  const logits = Float32Array.from({ length: 100 }, (_, i) => ([40, 7, 90].includes(i) ? 5 : (i % 13) / 13))
  const top = topCandidates(logits, GREEDY_CANDIDATES)
  const reversed = { ids: [...Array.from(top.ids)].reverse(), logits: [...Array.from(top.logits)].reverse() }
  assert.equal(sampleToken(reversed, greedy, 0, new Set()).id, 7)
})
