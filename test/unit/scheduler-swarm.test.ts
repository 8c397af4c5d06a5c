import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { bytesToHex, generateKeyPair } from '../../src/identity/index.js'
import { listenAddrs } from '../../src/p2p/index.js'
import { SwarmNode } from '../../src/scheduler/swarm-node.js'
import { NoWorkerError } from '../../src/scheduler/errors.js'
import { CommonsError } from '../../src/errors.js'
import { FakeInferenceService, fakeParams, fakeText } from './swarm-fakes.js'
import type { InferenceRequest } from '../../src/runtime/service.js'

function node(opts: { worker?: FakeInferenceService; bootstrap?: string[]; stallTimeoutMs?: number } = {}) {
  // A short stall timeout keeps the stall scenario quick; real nodes default to 5 s.
  const keyPair = generateKeyPair()
  const nodeId = bytesToHex(keyPair.publicKey)
  const n = new SwarmNode({
    keyPair, nodeId, registry: new Registry(), listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false,
    capabilityIntervalMs: 300, stallTimeoutMs: opts.stallTimeoutMs ?? 800,
    ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }),
    ...(opts.worker === undefined ? {} : { local: opts.worker, localStats: () => ({ parallel: 2, activeSlots: 0, queueDepth: 0, maxQueue: 8 }) }),
  })
  return { n, nodeId }
}

const req = (o: Partial<InferenceRequest> = {}): InferenceRequest => ({ model: 'fake', prompt: { kind: 'completion', prompt: 'hi' }, params: fakeParams(), ...o })

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A gateway with no engines and two fake workers B and C bootstrapped to it, all stopped after `t`. */
async function gatewayAndTwoWorkers(t: TestContext, tokenDelayMs: number) {
  const gw = node()
  await gw.n.start()
  const boot = [gw.n.host.getMultiaddrs()[0]!.toString()]
  const fb = new FakeInferenceService('b', tokenDelayMs)
  const fc = new FakeInferenceService('c', tokenDelayMs)
  const b = node({ worker: fb, bootstrap: boot })
  const c = node({ worker: fc, bootstrap: boot })
  await b.n.start()
  await c.n.start()
  t.after(async () => {
    await c.n.stop()
    await b.n.stop()
    await gw.n.stop()
  })
  await until('both workers in the gateway peer table', () => (gw.n.gossip?.peers().length ?? 0) === 2)
  return { gw, b, c, fb, fc }
}

test('gateway without engines: jobs run on both workers, receipts kept, failover on stall and on death, then 503', async (t) => {
  const { gw, b, c, fb, fc } = await gatewayAndTwoWorkers(t, 5)
  assert.deepEqual(gw.n.service.listModels().map((m) => [m.info.name, m.local]), [['fake', false]])

  // Concurrent jobs spread over B and C (each has 2 slots; the gateway counts what it sent).
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => gw.n.service.generate(req({ params: fakeParams({ seed: i, maxTokens: 10 }) }))))
  const servers = new Set(results.map((r) => r.servedBy))
  assert.deepEqual([...servers].sort(), [b.nodeId, c.nodeId].sort())
  results.forEach((r, i) => assert.equal(r.text, fakeText(i, 10)))
  for (const r of results) assert.ok(r.receiptId !== undefined && gw.n.receipts?.get(r.receiptId) !== undefined, 'receipt stored')

  // Stall: the serving worker goes silent mid-stream (alive, but no frames for longer than the
  // stall timeout); the job resumes on the other worker with the tokens already delivered.
  fb.tokenDelayMs = 10
  fc.tokenDelayMs = 10
  const startedB = fb.started
  const startedC = fc.started
  const stallSeen: number[] = []
  let staller: FakeInferenceService | undefined
  const stalled = await gw.n.service.generate(req({ params: fakeParams({ seed: 11, maxTokens: 20 }) }), {
    onToken: (tok) => {
      stallSeen.push(tok.index)
      if (tok.index === 4 && staller === undefined) {
        staller = fb.started > startedB ? fb : fc
        staller.tokenDelayMs = 2_500
      }
    },
  })
  assert.ok(staller !== undefined && fb.started + fc.started === startedB + startedC + 2, 'a second worker took over')
  assert.equal(stalled.text, fakeText(11, 20))
  assert.deepEqual(stallSeen, Array.from({ length: 20 }, (_, i) => i))
  assert.notEqual(stalled.servedBy, staller === fb ? b.nodeId : c.nodeId)
  staller.tokenDelayMs = 10
  await until('the stalled worker back in the table', () => (gw.n.gossip?.peers().length ?? 0) === 2)

  // Failover: the serving worker disappears mid-stream; the stream continues on the other one.
  fb.tokenDelayMs = 25
  fc.tokenDelayMs = 25
  const seen: number[] = []
  let victim: typeof b | undefined
  const job = gw.n.service.generate(req({ params: fakeParams({ seed: 7, maxTokens: 30 }) }), {
    onToken: (tok) => {
      seen.push(tok.index)
      if (tok.index === 5 && victim === undefined) {
        victim = fb.started > fc.started ? b : c
        // Not awaited: the worker vanishes while the gateway keeps reading.
        void victim.n.stop()
      }
    },
  })
  const failed = await job
  assert.equal(failed.text, fakeText(7, 30))
  assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i), 'no token lost or repeated')
  assert.notEqual(failed.servedBy, victim === b ? b.nodeId : c.nodeId)

  // All workers gone: a clear 503, fast.
  await (victim === b ? c : b).n.stop()
  const t0 = Date.now()
  await assert.rejects(gw.n.service.generate(req()), (err: unknown) => {
    assert.ok(err instanceof CommonsError)
    assert.equal(err.status, 503)
    return true
  })
  assert.ok(Date.now() - t0 < 2_000, `503 took ${Date.now() - t0} ms`)
  assert.equal(gw.n.service.listModels().length, 1, 'a model seen recently stays listed, so the API answers 503 rather than 404')
  await assert.rejects(gw.n.service.generate(req({ model: 'other' })), NoWorkerError)
})

test('a worker whose own view refuses the model (not admitted there, retired, unloaded) is failed over, not reported to the client', async (t) => {
  const { gw, c, fb, fc } = await gatewayAndTwoWorkers(t, 0)
  for (const code of ['model_not_admitted', 'model_retired', 'model_not_found']) {
    fb.failWith = new CommonsError(code, `refused by b: ${code}`, { status: code === 'model_not_found' ? 404 : 403 })
    for (let seed = 0; seed < 4; seed++) {
      const r = await gw.n.service.generate(req({ params: fakeParams({ seed, maxTokens: 6 }) }))
      assert.equal(r.servedBy, c.nodeId, code)
      assert.equal(r.text, fakeText(seed, 6))
    }
  }
  // A refusal about the request itself is the client's answer, whichever worker gives it.
  fb.failWith = new CommonsError('context_length_exceeded', 'prompt too long', { status: 400 })
  fc.failWith = fb.failWith
  await assert.rejects(gw.n.service.generate(req()), (err: unknown) => err instanceof CommonsError && err.status === 400)
})
