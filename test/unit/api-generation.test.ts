import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { buildApi } from '../../src/api/index.js'
import { FakeInferenceService } from '../fixtures/fake-inference-service.js'

/** Success paths of /v1/chat/completions and /v1/completions: shapes, streaming, parameters. */

const MODEL = 'fake-model'

/** Parses an SSE body into its `data:` payloads; asserts the framing on the way. */
function sseEvents(body: string): unknown[] {
  assert.ok(body.endsWith('\n\n'), 'each event ends with a blank line')
  const events = body.trimEnd().split('\n\n')
  const out: unknown[] = []
  for (const event of events) {
    assert.match(event, /^data: /)
    const data = event.slice('data: '.length)
    out.push(data === '[DONE]' ? '[DONE]' : JSON.parse(data))
  }
  return out
}

test('chat completion, non-streaming: OpenAI shape, usage, finish_reason length, fingerprint', async () => {
  const service = new FakeInferenceService()
  const { app } = buildApi({ service })
  const res = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: { model: MODEL, messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'he' }, { type: 'text', text: 'llo' }] }], max_tokens: 3, temperature: 0 },
  })
  await app.close()
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.match(body.id, /^chatcmpl-[0-9a-f]{24}$/)
  assert.equal(body.object, 'chat.completion')
  assert.equal(body.model, MODEL)
  assert.equal(body.system_fingerprint, 'fp_abababababab')
  assert.equal(typeof body.created, 'number')
  assert.deepEqual(body.choices, [{ index: 0, message: { role: 'assistant', content: ' w0 w1 w2', refusal: null }, logprobs: null, finish_reason: 'length' }])
  const promptTokens = '<|system|>be brief\n<|user|>hello'.length
  assert.deepEqual(body.usage, { prompt_tokens: promptTokens, completion_tokens: 3, total_tokens: promptTokens + 3 })
  assert.equal(body.commons.served_by, 'fake-node')
  // developer → system; text parts joined.
  assert.deepEqual(service.requests[0]?.prompt, { kind: 'chat', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }] })
})

test('sampling parameters reach the service with OpenAI names mapped and defaults applied', async () => {
  const service = new FakeInferenceService()
  const { app } = buildApi({ service })
  await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: { model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 50, max_completion_tokens: 7, temperature: 0.7, top_p: 0.9, top_k: 40, min_p: 0.05, repeat_penalty: 1.1, repeat_last_n: 32, seed: 1234, stop: 'END' },
  })
  await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: ['only one'] } })
  await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p', top_p: 0, stop: ['a', ''] } })
  await app.close()
  assert.deepEqual(service.requests[0]?.params, { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, repeatLastN: 32, seed: 1234, maxTokens: 7, stop: ['END'] })
  const defaults = service.requests[1]!.params
  assert.deepEqual({ ...defaults, seed: 0 }, { temperature: 1, topP: 1, topK: 0, minP: 0, repeatPenalty: 1, repeatLastN: 64, seed: 0, maxTokens: 256, stop: [] })
  assert.ok(Number.isInteger(defaults.seed) && defaults.seed >= 0 && defaults.seed <= 0xffffffff)
  assert.deepEqual(service.requests[1]!.prompt, { kind: 'completion', prompt: 'only one' })
  // top_p = 0 is greedy; empty stop strings are dropped.
  assert.equal(service.requests[2]!.params.temperature, 0)
  assert.deepEqual(service.requests[2]!.params.stop, ['a'])
})

test('same seed ⇒ same text; the seed is echoed in our extension', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const run = async (seed: number) =>
    (await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p', max_tokens: 8, seed } })).json()
  const [a, b, c] = [await run(7), await run(7), await run(8)]
  await app.close()
  assert.equal(a.choices[0].text, b.choices[0].text)
  assert.notEqual(a.choices[0].text, c.choices[0].text)
  assert.equal(a.commons.seed, 7)
})

test('stop string → finish_reason stop and the text ends before it', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p', temperature: 0, max_tokens: 10, stop: [' w3'] } })
  await app.close()
  const body = res.json()
  assert.equal(body.object, 'text_completion')
  assert.match(body.id, /^cmpl-/)
  assert.deepEqual(body.choices, [{ text: ' w0 w1 w2', index: 0, logprobs: null, finish_reason: 'stop' }])
})

test('chat streaming: role chunk, content deltas, finish chunk, usage chunk, [DONE]', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, temperature: 0, stream: true, stream_options: { include_usage: true } },
  })
  await app.close()
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/event-stream/)
  const events = sseEvents(res.body) as Array<Record<string, any>>
  assert.equal(events.at(-1), '[DONE]')
  const chunks = events.slice(0, -1)
  const ids = new Set(chunks.map((c) => c.id))
  assert.equal(ids.size, 1)
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk')
    assert.equal(c.system_fingerprint, 'fp_abababababab')
  }
  assert.deepEqual(chunks[0]!.choices, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])
  assert.equal(chunks[0]!.usage, null)
  const text = chunks.slice(1, -2).map((c) => c.choices[0].delta.content).join('')
  assert.equal(text, ' w0 w1 w2')
  const finish = chunks.at(-2)!
  assert.deepEqual(finish.choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }])
  assert.equal(finish.usage, null)
  const usage = chunks.at(-1)!
  assert.deepEqual(usage.choices, [])
  assert.deepEqual(usage.usage, { prompt_tokens: '<|user|>hi'.length, completion_tokens: 3, total_tokens: '<|user|>hi'.length + 3 })
})

test('completion streaming without include_usage: no usage fields, text chunks, [DONE]', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p', max_tokens: 4, temperature: 0, stream: true, stop: ' w2' } })
  await app.close()
  const events = sseEvents(res.body) as Array<Record<string, any>>
  assert.equal(events.at(-1), '[DONE]')
  const chunks = events.slice(0, -1)
  for (const c of chunks) {
    assert.equal(c.object, 'text_completion')
    assert.equal('usage' in c, false)
  }
  assert.equal(chunks.map((c) => c.choices[0].text).join(''), ' w0 w1')
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'stop')
})

test('a client disconnect mid-stream aborts generation and frees the slot', async () => {
  const service = new FakeInferenceService({ parallel: 1, tokenDelayMs: 10 })
  const { app } = buildApi({ service })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  try {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/completions', headers: { 'content-type': 'application/json' } }, (res) => {
        assert.equal(res.statusCode, 200)
        res.once('data', () => {
          // First chunk arrived: hang up.
          req.destroy()
          resolve()
        })
      })
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)))
      req.end(JSON.stringify({ model: MODEL, prompt: 'p', max_tokens: 10_000, stream: true }))
    })
    for (let i = 0; i < 200 && service.activeSlots > 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(service.signals[0]?.aborted, true)
    assert.equal(service.activeSlots, 0)
    // The slot is free: the next request runs at once.
    const next = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p', max_tokens: 2 } })
    assert.equal(next.statusCode, 200)
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    assert.match(metrics, /commons_http_requests_total\{route="\/v1\/completions",method="POST",status="499"\} 1/)
  } finally {
    await app.close()
  }
})

test('an error after the stream opened arrives as an in-stream error event', async () => {
  const service = new FakeInferenceService()
  service.generate = async (_req, options) => {
    options?.onToken?.({ index: 0, id: 1, text: 'a', logprob: -1 })
    throw new Error('boom')
  }
  const { app } = buildApi({ service })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p', stream: true } })
  await app.close()
  const events = sseEvents(res.body) as Array<Record<string, any>>
  assert.equal(events[0]!.choices[0].text, 'a')
  assert.deepEqual(events.at(-1), { error: { message: 'The server had an error while processing your request', type: 'server_error', param: null, code: 'server_error' } })
  assert.equal((events as unknown[]).includes('[DONE]'), false)
})

test('a server-side abort (node stopping) → 503 before the stream opens', async () => {
  const service = new FakeInferenceService()
  service.generate = async () => ({
    text: '', tokens: [], promptTokens: 1, completionTokens: 0, finishReason: 'abort',
    timings: { queuedMs: 0, timeToFirstTokenMs: 0, decodeMs: 0 }, model: MODEL, servedBy: 'x',
  })
  const { app } = buildApi({ service })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: MODEL, prompt: 'p' } })
  await app.close()
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().error.code, 'generation_aborted')
  assert.ok(res.headers['retry-after'])
})

test('model addressed by sha256 works like its name', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'AB'.repeat(32), prompt: 'p', max_tokens: 1 } })
  await app.close()
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().model, MODEL)
})

test('closing the app ends open streams and aborts their generation', async () => {
  const service = new FakeInferenceService({ parallel: 1, tokenDelayMs: 10 })
  const { app } = buildApi({ service })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const ended = new Promise<void>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/completions', headers: { 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => void app.close())
      res.on('close', resolve)
      res.resume()
    })
    req.on('error', (err) => (/socket hang up|ECONNRESET|aborted/.test(err.message) ? resolve() : reject(err)))
    req.end(JSON.stringify({ model: MODEL, prompt: 'p', max_tokens: 100_000, stream: true }))
  })
  await ended
  for (let i = 0; i < 200 && service.activeSlots > 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(service.signals[0]?.aborted, true)
  assert.equal(service.activeSlots, 0)
})
