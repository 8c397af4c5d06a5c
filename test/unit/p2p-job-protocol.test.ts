import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import * as lp from 'it-length-prefixed'
import { bytesToHex, generateKeyPair, type KeyPair } from '../../src/identity/index.js'
import { createHost, listenAddrs, JOB_PROTOCOL, InvalidReceiptError, RemoteJobError, WorkerLostError, type CommonsHost } from '../../src/p2p/index.js'
import { createP2pMetrics, type P2pMetrics } from '../../src/p2p/p2p-metrics.js'
import { JobWorker, runRemoteJob } from '../../src/p2p/job-protocol.js'
import { ErrorFrameSchema, WorkerFrameSchema, encodeFrame, readFrames, MAX_FRAME_BYTES } from '../../src/p2p/frames.js'
import { outputHash, signReceipt, verifyReceiptSignature } from '../../src/p2p/receipt.js'
import { CommonsError } from '../../src/errors.js'
import { FakeInferenceService, fakeParams, fakeToken, fakeText } from './swarm-fakes.js'
import type { InferenceRequest } from '../../src/runtime/service.js'

let workerKey: KeyPair
let gatewayKey: KeyPair
let workerHost: CommonsHost
let gatewayHost: CommonsHost
let service: FakeInferenceService
let worker: JobWorker
let workerMetrics: P2pMetrics
let gatewayMetrics: P2pMetrics
let target: { nodeId: string; peerId: CommonsHost['peerId'] }

const request = (o: Partial<InferenceRequest> = {}): InferenceRequest => ({
  model: 'fake', prompt: { kind: 'completion', prompt: 'hello' }, params: fakeParams(), ...o,
})

before(async () => {
  workerKey = generateKeyPair()
  gatewayKey = generateKeyPair()
  workerHost = await createHost({ keyPair: workerKey, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false })
  gatewayHost = await createHost({ keyPair: gatewayKey, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false })
  await gatewayHost.peerStore.merge(workerHost.peerId, { multiaddrs: workerHost.getMultiaddrs() })
  service = new FakeInferenceService(bytesToHex(workerKey.publicKey))
  workerMetrics = createP2pMetrics(new Registry())
  gatewayMetrics = createP2pMetrics(new Registry())
  worker = new JobWorker({ host: workerHost, keyPair: workerKey, metrics: workerMetrics, service, limits: { ratePerSecond: 1000, burst: 1000, maxConcurrent: 4 }, aliveIntervalMs: 100 })
  await worker.start()
  target = { nodeId: bytesToHex(workerKey.publicKey), peerId: workerHost.peerId }
})

after(async () => {
  await worker.stop()
  await gatewayHost.stop()
  await workerHost.stop()
})

test('a job streams every token in order and ends with a receipt that verifies', async () => {
  const seen: number[] = []
  const out = await runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'job-1', request(), { onToken: (t) => seen.push(t.id) })
  const expected = Array.from({ length: 8 }, (_, t) => fakeToken(42, t))
  assert.deepEqual(seen, expected)
  assert.deepEqual(out.result.tokens, expected)
  assert.equal(out.result.text, fakeText(42, 8))
  assert.ok(out.signed)
  assert.equal(verifyReceiptSignature(out.signed), true)
  assert.equal(out.signed.receipt.worker, target.nodeId)
  assert.equal(out.signed.receipt.gateway, bytesToHex(gatewayKey.publicKey))
  assert.equal(out.signed.receipt.outputHash, outputHash(expected))
  assert.equal(out.signed.receipt.model.sha256, 'ab'.repeat(32))
  assert.match(out.receiptId ?? '', /^[0-9a-f]{64}$/)
})

test('resumed jobs continue at the next index with identical tokens', async () => {
  const first3 = [0, 1, 2].map((t) => fakeToken(42, t))
  const seen: number[] = []
  const out = await runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'job-2', request({ resumeTokens: first3 }), { onToken: (t) => seen.push(t.index) })
  assert.deepEqual(seen, [3, 4, 5, 6, 7])
  assert.deepEqual(out.result.tokens, Array.from({ length: 8 }, (_, t) => fakeToken(42, t)))
  assert.equal(out.signed?.receipt.resumedTokens, 3)
})

test('aborting the gateway side cancels the generation on the worker', async () => {
  service.tokenDelayMs = 20
  const before = service.aborted
  const controller = new AbortController()
  try {
    const out = await runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'job-3', request({ params: fakeParams({ maxTokens: 200 }) }), {
      signal: controller.signal,
      onToken: (t) => { if (t.index === 2) controller.abort() },
    })
    assert.equal(out.result.finishReason, 'abort')
    assert.equal(out.signed, undefined)
    for (let i = 0; i < 50 && service.aborted === before; i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(service.aborted, before + 1, 'the worker aborted its generation')
  } finally {
    service.tokenDelayMs = 0
  }
})

test('a worker error arrives typed with its status', async () => {
  service.failWith = new CommonsError('context_length_exceeded', 'prompt too long', { status: 400 })
  try {
    await assert.rejects(runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'job-4', request()), (err: unknown) => {
      assert.ok(err instanceof RemoteJobError)
      assert.equal(err.code, 'context_length_exceeded')
      assert.equal(err.status, 400)
      return true
    })
  } finally {
    service.failWith = undefined
  }
})

async function rawExchange(bytes: Uint8Array): Promise<unknown[]> {
  const stream = await gatewayHost.dialProtocol(workerHost.peerId, JOB_PROTOCOL)
  stream.send(bytes)
  const frames: unknown[] = []
  try {
    for await (const f of readFrames(stream, ErrorFrameSchema)) frames.push(f)
  } catch (err) {
    frames.push(err)
  }
  return frames
}

test('malformed and oversized request frames are refused; the worker keeps serving', async () => {
  const notJson = await rawExchange(lp.encode.single(new TextEncoder().encode('{not json')).subarray())
  assert.equal((notJson[0] as { code: string }).code, 'malformed_frame')
  const badSchema = await rawExchange(encodeFrame({ type: 'request', jobId: 'x', request: { ...request(), params: { ...fakeParams(), temperature: -1 } } } as never).subarray())
  assert.equal((badSchema[0] as { code: string }).code, 'malformed_frame')
  // A length prefix of 2 MiB: refused before the body is buffered.
  const prefix = lp.encode.single(new Uint8Array(0)).subarray()
  const huge = new Uint8Array([0x80, 0x80, 0x80, 0x01, ...prefix.subarray(1)])
  const oversized = await rawExchange(huge)
  assert.equal((oversized[0] as { code: string }).code, 'malformed_frame')
  const rejected = await workerMetrics.jobRejected.get()
  const total = rejected.values.reduce((s, v) => s + v.value, 0)
  assert.ok(total >= 3, `rejections counted (${total})`)
  const ok = await runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'job-5', request())
  assert.equal(ok.result.tokens.length, 8)
})

test('per-peer concurrency limit answers 429 instead of queueing forever', async () => {
  service.tokenDelayMs = 30
  try {
    const running = Array.from({ length: 4 }, (_, i) => runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, `c${i}`, request({ params: fakeParams({ maxTokens: 20 }) })))
    await new Promise((r) => setTimeout(r, 100))
    await assert.rejects(runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'c-over', request()), (err: unknown) => err instanceof RemoteJobError && err.status === 429)
    await Promise.all(running)
  } finally {
    service.tokenDelayMs = 0
  }
})

/** A dishonest worker: handles the job protocol itself with a script of frames. */
async function withRogueWorker(script: (frames: { write: (f: unknown) => void }, jobId: string) => Promise<void> | void, fn: (t: typeof target) => Promise<void>): Promise<void> {
  const key = generateKeyPair()
  const host = await createHost({ keyPair: key, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false })
  await host.handle(JOB_PROTOCOL, async (stream) => {
    for await (const f of readFrames(stream, WorkerFrameSchema.or(ErrorFrameSchema).or((await import('../../src/p2p/frames.js')).RequestFrameSchema))) {
      if (f.type === 'request') {
        await script({ write: (x) => stream.send(encodeFrame(x as never)) }, f.jobId)
        return
      }
    }
  })
  await gatewayHost.peerStore.merge(host.peerId, { multiaddrs: host.getMultiaddrs() })
  try {
    await fn({ nodeId: bytesToHex(key.publicKey), peerId: host.peerId })
  } finally {
    await host.stop()
  }
}

test('a receipt signed by another key, or for other tokens, is rejected', async () => {
  const other = generateKeyPair()
  const receiptFor = (jobId: string, workerId: string, tokens: number[]) => ({
    jobId, worker: workerId, gateway: bytesToHex(gatewayKey.publicKey), model: { name: 'fake', sha256: 'ab'.repeat(32) },
    params: { ...fakeParams(), stop: [] }, promptHash: '00'.repeat(32), promptTokens: 1, resumedTokens: 0, outputHash: outputHash(tokens),
    completionTokens: tokens.length, logprobs: tokens.map(() => -1), finishReason: 'length' as const, timings: { queuedMs: 0, timeToFirstTokenMs: 0, decodeMs: 0 }, issuedAt: Date.now(),
  })
  const result = { model: 'fake', text: 'x', promptTokens: 1, completionTokens: 1, finishReason: 'length' as const }
  // Forged: the rogue worker signs with a key that is not its own.
  await withRogueWorker((w, jobId) => {
    w.write({ type: 'token', index: 0, id: 5, text: 'x', logprob: -1 })
    w.write({ type: 'receipt', result, signed: signReceipt(receiptFor(jobId, bytesToHex(other.publicKey), [5]), other) })
  }, async (t) => {
    await assert.rejects(runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, t, 'r1', request()), InvalidReceiptError)
  })
  const before = (await gatewayMetrics.receipts.get()).values.find((v) => v.labels.outcome === 'invalid')?.value ?? 0
  assert.ok(before >= 1)
  // Token frames out of order: malformed, typed, the gateway survives.
  await withRogueWorker((w) => {
    w.write({ type: 'token', index: 1, id: 5, text: 'x', logprob: -1 })
  }, async (t) => {
    await assert.rejects(runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, t, 'r2', request()), (err: unknown) => err instanceof CommonsError && err.code === 'malformed_frame')
  })
})

test('a worker that goes silent mid-stream is reported lost after the stall timeout', async () => {
  await withRogueWorker(async (w) => {
    w.write({ type: 'token', index: 0, id: 5, text: 'x', logprob: -1 })
    await new Promise((r) => setTimeout(r, 2_000))
  }, async (t) => {
    const seen: number[] = []
    await assert.rejects(runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, t, 's1', request(), { stallTimeoutMs: 300, onToken: (x) => seen.push(x.id) }), WorkerLostError)
    assert.deepEqual(seen, [5])
  })
})

test('a queued job sends alive frames and is not mistaken for a stalled one', async () => {
  service.queueDelayMs = 700
  try {
    const out = await runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, target, 'slow', request({ params: fakeParams({ maxTokens: 2 }) }), { stallTimeoutMs: 400 })
    assert.equal(out.result.tokens.length, 2)
  } finally {
    service.queueDelayMs = 0
  }
})

test('a dial to a worker that is gone fails fast with WorkerLostError', async () => {
  const key = generateKeyPair()
  const host = await createHost({ keyPair: key, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false })
  await gatewayHost.peerStore.merge(host.peerId, { multiaddrs: host.getMultiaddrs() })
  await host.stop()
  const t0 = Date.now()
  await assert.rejects(runRemoteJob(gatewayHost, gatewayKey, gatewayMetrics, { nodeId: bytesToHex(key.publicKey), peerId: host.peerId }, 'd1', request()), WorkerLostError)
  assert.ok(Date.now() - t0 < 5_000)
})

void MAX_FRAME_BYTES
