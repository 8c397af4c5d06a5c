import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildApi } from '../../src/api/index.js'
import { FakeInferenceService } from '../fixtures/fake-inference-service.js'

/** Every error the API can answer, asserted on status AND body (OpenAI's error shape). */

const MODEL = 'fake-model'
const chat = (extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, ...extra })
const completion = (extra: Record<string, unknown> = {}) => ({ model: MODEL, prompt: 'hi', max_tokens: 3, ...extra })

async function post(url: string, payload: unknown, service = new FakeInferenceService()) {
  const { app } = buildApi({ service })
  const res = await app.inject({ method: 'POST', url, payload: payload as object })
  await app.close()
  return res
}

function assertError(
  res: { statusCode: number; json: () => unknown; headers: Record<string, unknown> },
  status: number,
  expected: { type?: string; code: string | null; param?: string | null; message?: RegExp },
): void {
  assert.equal(res.statusCode, status)
  assert.match(String(res.headers['content-type']), /application\/json/)
  const body = res.json() as { error: Record<string, unknown> }
  assert.deepEqual(Object.keys(body), ['error'])
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type'])
  assert.equal(typeof body.error.message, 'string')
  assert.ok((body.error.message as string).length > 0)
  assert.equal(body.error.code, expected.code)
  assert.equal(body.error.type, expected.type ?? 'invalid_request_error')
  if (expected.param !== undefined) assert.equal(body.error.param, expected.param)
  if (expected.message) assert.match(body.error.message as string, expected.message)
}

test('malformed JSON → 400 invalid_json', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, payload: '{"model": "x",' })
  await app.close()
  assertError(res, 400, { code: 'invalid_json', param: null, message: /JSON/ })
})

test('empty JSON body → 400 invalid_json', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', headers: { 'content-type': 'application/json' }, payload: '' })
  await app.close()
  assertError(res, 400, { code: 'invalid_json', param: null })
})

test('a JSON body that is not an object → 400', async () => {
  const res = await post('/v1/chat/completions', [1, 2])
  assertError(res, 400, { code: 'invalid_value', param: null, message: /JSON object/ })
})

test('body over 1 MiB → 413 payload_too_large', async () => {
  const res = await post('/v1/completions', completion({ prompt: 'x'.repeat(1024 * 1024 + 10) }))
  assertError(res, 413, { code: 'payload_too_large', param: null, message: /1048576 bytes/ })
})

test('non-JSON content type → 415', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'POST', url: '/v1/completions', headers: { 'content-type': 'application/xml' }, payload: '<a/>' })
  await app.close()
  assertError(res, 415, { code: 'unsupported_media_type' })
})

test('schema violations → 400 naming the param', async () => {
  const cases: Array<[string, unknown, string]> = [
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }, 'model'],
    ['/v1/chat/completions', { model: MODEL }, 'messages'],
    ['/v1/chat/completions', chat({ messages: [] }), 'messages'],
    ['/v1/chat/completions', chat({ temperature: 3 }), 'temperature'],
    ['/v1/chat/completions', chat({ temperature: 'hot' }), 'temperature'],
    ['/v1/chat/completions', chat({ top_p: 1.5 }), 'top_p'],
    ['/v1/chat/completions', chat({ max_tokens: 0 }), 'max_tokens'],
    ['/v1/chat/completions', chat({ max_completion_tokens: 1.5 }), 'max_completion_tokens'],
    ['/v1/chat/completions', chat({ seed: -1 }), 'seed'],
    ['/v1/chat/completions', chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop'],
    ['/v1/chat/completions', chat({ stop: 5 }), 'stop'],
    ['/v1/chat/completions', chat({ top_k: -1 }), 'top_k'],
    ['/v1/chat/completions', chat({ min_p: 2 }), 'min_p'],
    ['/v1/chat/completions', chat({ stream: 'yes' }), 'stream'],
    ['/v1/chat/completions', chat({ stream_options: { include_usage: true } }), 'stream_options'],
    ['/v1/chat/completions', chat({ messages: [{ role: 'robot', content: 'hi' }] }), 'messages[0].role'],
    ['/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 7 }] }), 'messages[1].content'],
    ['/v1/chat/completions', chat({ messages: [{ role: 'user', content: null }] }), 'messages[0].content'],
    ['/v1/completions', { model: MODEL }, 'prompt'],
    ['/v1/completions', completion({ prompt: 5 }), 'prompt'],
    ['/v1/completions', completion({ max_tokens: -3 }), 'max_tokens'],
    ['/v1/completions', completion({ repeat_penalty: -1 }), 'repeat_penalty'],
  ]
  for (const [url, body, param] of cases) {
    const res = await post(url, body)
    assertError(res, 400, { code: 'invalid_value', param, message: new RegExp(param.replace(/[[\]]/g, '\\$&')) })
  }
})

test('unknown fields → 400 unknown_parameter', async () => {
  assertError(await post('/v1/chat/completions', chat({ temprature: 0.5 })), 400, { code: 'unknown_parameter', param: 'temprature', message: /Unrecognized request argument supplied: temprature/ })
  assertError(await post('/v1/completions', completion({ messages: [] })), 400, { code: 'unknown_parameter', param: 'messages' })
})

test('unsupported OpenAI options → 400 unsupported_parameter with a clear message, never ignored', async () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['/v1/chat/completions', chat({ n: 2 }), 'n'],
    ['/v1/chat/completions', chat({ logprobs: true }), 'logprobs'],
    ['/v1/chat/completions', chat({ top_logprobs: 3 }), 'top_logprobs'],
    ['/v1/chat/completions', chat({ tools: [{ type: 'function', function: { name: 'f' } }] }), 'tools'],
    ['/v1/chat/completions', chat({ tool_choice: 'auto' }), 'tool_choice'],
    ['/v1/chat/completions', chat({ functions: [{ name: 'f' }] }), 'functions'],
    ['/v1/chat/completions', chat({ response_format: { type: 'json_object' } }), 'response_format'],
    ['/v1/chat/completions', chat({ presence_penalty: 0.5 }), 'presence_penalty'],
    ['/v1/chat/completions', chat({ frequency_penalty: 1 }), 'frequency_penalty'],
    ['/v1/chat/completions', chat({ logit_bias: { '42': 5 } }), 'logit_bias'],
    ['/v1/chat/completions', chat({ modalities: ['text', 'audio'] }), 'modalities'],
    ['/v1/chat/completions', chat({ store: true }), 'store'],
    ['/v1/chat/completions', chat({ messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }), 'messages[0].tool_call_id'],
    ['/v1/chat/completions', chat({ messages: [{ role: 'tool', content: 'x' }] }), 'messages[0].role'],
    ['/v1/chat/completions', chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), 'messages[0].content[0].type'],
    ['/v1/completions', completion({ n: 3 }), 'n'],
    ['/v1/completions', completion({ best_of: 2 }), 'best_of'],
    ['/v1/completions', completion({ echo: true }), 'echo'],
    ['/v1/completions', completion({ suffix: 'end' }), 'suffix'],
    ['/v1/completions', completion({ logprobs: 2 }), 'logprobs'],
    ['/v1/completions', completion({ prompt: ['a', 'b'] }), 'prompt'],
    ['/v1/completions', completion({ prompt: [1, 2, 3] }), 'prompt'],
  ]
  for (const [url, body, param] of cases) {
    const res = await post(url, body)
    assertError(res, 400, { code: 'unsupported_parameter', param, message: /not supported/ })
  }
})

test('neutral values of unsupported options are accepted', async () => {
  const res = await post(
    '/v1/chat/completions',
    chat({ n: 1, logprobs: false, presence_penalty: 0, frequency_penalty: 0, logit_bias: {}, tools: [], response_format: { type: 'text' }, store: false, user: 'u1' }),
  )
  assert.equal(res.statusCode, 200)
  const echoed = await post('/v1/chat/completions', chat({ messages: [{ role: 'assistant', content: 'x', tool_calls: null, refusal: null }, { role: 'user', content: 'y' }] }))
  assert.equal(echoed.statusCode, 200)
})

test('unknown model → 404 model_not_found', async () => {
  for (const [url, body] of [['/v1/chat/completions', chat({ model: 'nope' })], ['/v1/completions', completion({ model: 'nope' })]] as const) {
    assertError(await post(url, body), 404, { code: 'model_not_found', param: 'model', message: /`nope`/ })
  }
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'GET', url: '/v1/models/nope' })
  await app.close()
  assertError(res, 404, { code: 'model_not_found', param: 'model' })
})

test('prompt longer than the context → 400 context_length_exceeded naming the prompt field', async () => {
  const service = new FakeInferenceService({ contextSize: 32 })
  assertError(await post('/v1/completions', completion({ prompt: 'x'.repeat(40) }), service), 400, { code: 'context_length_exceeded', param: 'prompt', message: /context/ })
  assertError(await post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'y'.repeat(40) }] }), service), 400, { code: 'context_length_exceeded', param: 'messages' })
  // Streaming requests get the same status: the error comes before the stream opens.
  assertError(await post('/v1/completions', completion({ prompt: 'x'.repeat(40), stream: true }), service), 400, { code: 'context_length_exceeded', param: 'prompt' })
})

test('overload → 429 rate_limit_error with Retry-After, streaming or not', async () => {
  const service = new FakeInferenceService({ parallel: 1, maxQueue: 0, tokenDelayMs: 20 })
  const { app } = buildApi({ service })
  // inject() is lazy until awaited: wrap it in a real promise so the first request starts now.
  const busy = Promise.resolve(app.inject({ method: 'POST', url: '/v1/completions', payload: completion({ max_tokens: 10 }) }))
  for (let i = 0; i < 100 && service.activeSlots === 0; i++) await new Promise((r) => setTimeout(r, 5))
  assert.equal(service.activeSlots, 1)
  for (const stream of [false, true]) {
    const res = await app.inject({ method: 'POST', url: '/v1/completions', payload: completion({ stream }) })
    assertError(res, 429, { type: 'rate_limit_error', code: 'queue_full' })
    assert.equal(res.headers['retry-after'], '2')
  }
  assert.equal((await busy).statusCode, 200)
  await app.close()
})

test('unknown route → 404 in the same shape', async () => {
  const { app } = buildApi({ service: new FakeInferenceService() })
  const res = await app.inject({ method: 'GET', url: '/v1/nothing' })
  await app.close()
  assertError(res, 404, { code: 'not_found', message: /GET \/v1\/nothing/ })
})

test('an unexpected exception → 500 server_error without leaking internals', async () => {
  const service = new FakeInferenceService()
  service.generate = async () => {
    throw new TypeError('secret internal detail')
  }
  const res = await post('/v1/completions', completion(), service)
  assertError(res, 500, { type: 'server_error', code: 'server_error' })
  assert.doesNotMatch(res.body, /secret internal detail/)
})
