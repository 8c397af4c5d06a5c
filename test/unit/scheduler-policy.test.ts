import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chooseWorker, expectedCostMs, type WorkerView } from '../../src/scheduler/policy.js'
import { WorkerStats } from '../../src/scheduler/worker-stats.js'

const w = (o: Partial<WorkerView> & { nodeId: string }): WorkerView => ({
  local: false, parallel: 4, busySlots: 0, queueDepth: 0, unreportedJobs: 0, tokensPerSecond: 50, latencyMs: 1, recentFailures: 0, ...o,
})

test('no candidates → undefined', () => {
  assert.equal(chooseWorker([], 100), undefined)
})

test('prefers free slots over a queue, and speed when loads are equal', () => {
  assert.equal(chooseWorker([w({ nodeId: 'busy', busySlots: 4, queueDepth: 3 }), w({ nodeId: 'idle' })], 100)?.nodeId, 'idle')
  assert.equal(chooseWorker([w({ nodeId: 'slow', tokensPerSecond: 10 }), w({ nodeId: 'fast', tokensPerSecond: 100 })], 100)?.nodeId, 'fast')
  // A fast worker with a long queue loses to a slower idle one.
  assert.equal(chooseWorker([w({ nodeId: 'fastq', tokensPerSecond: 100, busySlots: 4, queueDepth: 20 }), w({ nodeId: 'slowidle', tokensPerSecond: 40 })], 100)?.nodeId, 'slowidle')
})

test('jobs sent since the last record count as load (no herding on stale gossip)', () => {
  const a = w({ nodeId: 'a', parallel: 1 })
  const b = w({ nodeId: 'b', parallel: 1 })
  assert.equal(chooseWorker([{ ...a, unreportedJobs: 2 }, b], 100)?.nodeId, 'b')
})

test('recent failures and latency are penalized', () => {
  assert.equal(chooseWorker([w({ nodeId: 'flaky', recentFailures: 1 }), w({ nodeId: 'ok', busySlots: 2 })], 100)?.nodeId, 'ok')
  assert.equal(chooseWorker([w({ nodeId: 'far', latencyMs: 500 }), w({ nodeId: 'near', latencyMs: 2 })], 100)?.nodeId, 'near')
})

test('local wins ties, and is not chosen when clearly worse', () => {
  assert.equal(chooseWorker([w({ nodeId: 'r', latencyMs: 0 }), w({ nodeId: 'l', local: true, latencyMs: 0 })], 100)?.nodeId, 'l')
  assert.equal(chooseWorker([w({ nodeId: 'r' }), w({ nodeId: 'l', local: true, latencyMs: 0, busySlots: 4, queueDepth: 8 })], 100)?.nodeId, 'r')
})

test('cost is the expected completion time', () => {
  // 100 tokens at 50 tok/s = 2000 ms service; 1 ms latency; no wait.
  assert.equal(expectedCostMs(w({ nodeId: 'x' }), 100), 2001)
  // Load 5 on 4 slots: (5 + 1 - 4) / 4 × 2000 = 1000 ms wait.
  assert.equal(expectedCostMs(w({ nodeId: 'x', busySlots: 4, queueDepth: 1 }), 100), 3001)
})

test('worker stats: failures decay, unreported jobs reset on a new record', () => {
  let now = 1_000_000
  const s = new WorkerStats(() => now)
  s.failed('a')
  assert.equal(s.observation('a').recentFailures, 1)
  now += 30_000
  assert.ok(Math.abs(s.observation('a').recentFailures - 0.5) < 1e-9)
  const j1 = s.dispatched('a')
  s.dispatched('a')
  assert.equal(s.observation('a').unreportedJobs, 2)
  now += 1
  s.recordSeen('a')
  assert.equal(s.observation('a').unreportedJobs, 0)
  assert.equal(s.observation('a').runningJobs, 2)
  s.finished('a', j1)
  assert.equal(s.observation('a').runningJobs, 1)
  s.observeLatency('a', 10)
  s.observeLatency('a', 20)
  assert.equal(s.observation('a').latencyMs, 13)
})
