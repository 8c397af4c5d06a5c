import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as lp from 'it-length-prefixed'
import { CommonsError } from '../../src/errors.js'
import { FrameDecoder, MAX_FRAME_BYTES, RequestFrameSchema, encodeFrame, parseWorkerFrame, prefixLength, readFrames } from '../../src/p2p/frames.js'
import { MalformedFrameError } from '../../src/p2p/errors.js'
import { fakeParams } from './swarm-fakes.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('length prefix: multiformats unsigned-varint examples, and identical to it-length-prefixed', () => {
  // https://github.com/multiformats/unsigned-varint#examples
  const cases: Array<[number, string]> = [[1, '01'], [127, '7f'], [128, '8001'], [255, 'ff01'], [300, 'ac02'], [16384, '808001']]
  for (const [n, varint] of cases) {
    const framed = prefixLength(new Uint8Array(n))
    assert.equal(hex(framed.subarray(0, varint.length / 2)), varint, `length ${n}`)
    assert.equal(framed.byteLength, varint.length / 2 + n)
    assert.equal(hex(framed), hex(lp.encode.single(new Uint8Array(n)).subarray()))
  }
})

test('decoder: frames split at every byte, several per chunk, round-trip exactly', () => {
  const frames = [
    { type: 'token', index: 0, id: 7, text: 'héllo ✓', logprob: -0.25 },
    { type: 'token', index: 1, id: 8, text: '', logprob: -1.5 },
    { type: 'error', code: 'queue_full', message: 'x'.repeat(300), status: 429 },
  ] as const
  const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)))
  // Byte by byte.
  const d = new FrameDecoder()
  const out: unknown[] = []
  for (const b of bytes) {
    d.push(new Uint8Array([b]))
    for (let body = d.next(); body !== undefined; body = d.next()) out.push(parseWorkerFrame(body))
  }
  assert.deepEqual(out, frames)
  assert.equal(d.pending, 0)
  // All at once.
  const d2 = new FrameDecoder()
  d2.push(bytes)
  const out2: unknown[] = []
  for (let body = d2.next(); body !== undefined; body = d2.next()) out2.push(parseWorkerFrame(body))
  assert.deepEqual(out2, frames)
})

test('decoder: an oversized length is refused before its body arrives; over-long varints too', () => {
  const d = new FrameDecoder(1024)
  d.push(prefixLength(new Uint8Array(2048)).subarray(0, 2)) // only the 2-byte prefix
  assert.throws(() => d.next(), MalformedFrameError)
  const d2 = new FrameDecoder()
  d2.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
  assert.throws(() => d2.next(), MalformedFrameError)
  const d3 = new FrameDecoder()
  d3.push(prefixLength(new Uint8Array(MAX_FRAME_BYTES + 1)).subarray(0, 4))
  assert.throws(() => d3.next(), /exceeds/)
})

test('readFrames: validates with the schema and rejects a stream that ends mid-frame', async () => {
  const req = { type: 'request' as const, jobId: 'j', request: { model: 'm', prompt: { kind: 'completion' as const, prompt: 'p' }, params: { ...fakeParams(), stop: [] } } }
  const got: unknown[] = []
  for await (const f of readFrames([encodeFrame(req)], RequestFrameSchema)) got.push(f)
  assert.deepEqual(got, [req])
  const truncated = encodeFrame(req).subarray(0, 10)
  await assert.rejects(async () => { for await (const _ of readFrames([truncated], RequestFrameSchema)) void _ }, /ended inside a frame/)
  const extra = encodeFrame({ ...req, sneaky: true } as never)
  await assert.rejects(async () => { for await (const _ of readFrames([extra], RequestFrameSchema)) void _ }, MalformedFrameError)
})

test('worker frames: the token fast path accepts exactly what the schema accepts', () => {
  const enc = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x))
  const ok = { type: 'token', index: 3, id: 9, text: 'a', logprob: -0.1 }
  assert.deepEqual(parseWorkerFrame(enc(ok)), ok)
  const bad = [
    { ...ok, extra: 1 },
    { ...ok, index: -1 },
    { ...ok, index: 1.5 },
    { ...ok, id: '9' },
    { ...ok, text: 5 },
    { ...ok, logprob: null },
    { type: 'token', index: 3, id: 9, text: 'a' },
    { type: 'receipt' },
    [ok],
    null,
  ]
  for (const b of bad) assert.throws(() => parseWorkerFrame(enc(b)), (e: unknown) => e instanceof CommonsError && e.code === 'malformed_frame', JSON.stringify(b))
  assert.throws(() => parseWorkerFrame(new Uint8Array([0xff, 0xfe])), MalformedFrameError)
})
