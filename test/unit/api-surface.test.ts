import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApi } from '../../src/api/index.js'
import { InvalidInputError } from '../../src/errors.js'
import { FAKE_MODEL, FakeInferenceService } from '../fixtures/fake-inference-service.js'

/** /v1/models, /healthz, /metrics, CORS and route plugins. */

test('GET /v1/models: OpenAI list shape plus sha256, context length and inline manifest', async () => {
  const manifest = { name: 'fake-model', license: 'Apache-2.0', sha256: FAKE_MODEL.sha256 }
  const { app } = buildApi({ service: new FakeInferenceService({ manifest }) })
  const list = await app.inject({ method: 'GET', url: '/v1/models' })
  const one = await app.inject({ method: 'GET', url: `/v1/models/${FAKE_MODEL.sha256}` })
  await app.close()
  assert.equal(list.statusCode, 200)
  const body = list.json()
  assert.equal(body.object, 'list')
  assert.equal(body.data.length, 1)
  const m = body.data[0]
  assert.equal(m.id, 'fake-model')
  assert.equal(m.object, 'model')
  assert.equal(m.owned_by, 'commons')
  assert.equal(typeof m.created, 'number')
  assert.equal(m.sha256, FAKE_MODEL.sha256)
  assert.equal(m.context_length, 256)
  assert.equal(m.local, true)
  assert.deepEqual(m.manifest, manifest)
  assert.deepEqual(one.json(), m)
})

test('GET /healthz reports ok, node id and models', async () => {
  const { app } = buildApi({ service: new FakeInferenceService(), nodeId: 'cafe' })
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  await app.close()
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ok', node_id: 'cafe', models: ['fake-model'] })
})

test('GET /metrics: Prometheus text with requests, tokens, TTFT, tok/s, queue depth and active slots', async () => {
  const service = new FakeInferenceService()
  const { app } = buildApi({
    service,
    loads: () => [{ model: 'fake-model', activeSlots: 3, queueDepth: 5, parallel: 4 }],
  })
  await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'fake-model', prompt: 'p', max_tokens: 4 } })
  await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'nope', prompt: 'p' } })
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  await app.close()
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  const text = res.body
  assert.match(text, /commons_http_requests_total\{route="\/v1\/completions",method="POST",status="200"\} 1/)
  assert.match(text, /commons_http_requests_total\{route="\/v1\/completions",method="POST",status="404"\} 1/)
  assert.match(text, /commons_tokens_generated_total\{model="fake-model"\} 4/)
  assert.match(text, /commons_time_to_first_token_seconds_count\{model="fake-model"\} 1/)
  assert.match(text, /commons_tokens_per_second_count\{model="fake-model"\} 1/)
  assert.match(text, /commons_queue_depth\{model="fake-model"\} 5/)
  assert.match(text, /commons_active_slots\{model="fake-model"\} 3/)
})

test('metrics registries are per app, not global', async () => {
  const a = buildApi({ service: new FakeInferenceService() })
  const b = buildApi({ service: new FakeInferenceService() })
  await a.app.inject({ method: 'GET', url: '/healthz' })
  const text = (await b.app.inject({ method: 'GET', url: '/metrics' })).body
  await a.app.close()
  await b.app.close()
  assert.doesNotMatch(text, /route="\/healthz"/)
})

test('CORS is off by default and answers for the configured origin only', async () => {
  const plain = buildApi({ service: new FakeInferenceService() }).app
  const res = await plain.inject({ method: 'GET', url: '/v1/models', headers: { origin: 'https://ui.example' } })
  await plain.close()
  assert.equal(res.headers['access-control-allow-origin'], undefined)

  const withCors = buildApi({ service: new FakeInferenceService(), cors: 'https://ui.example' }).app
  const ok = await withCors.inject({ method: 'GET', url: '/v1/models', headers: { origin: 'https://ui.example' } })
  const preflight = await withCors.inject({
    method: 'OPTIONS',
    url: '/v1/chat/completions',
    headers: { origin: 'https://ui.example', 'access-control-request-method': 'POST' },
  })
  const other = await withCors.inject({ method: 'GET', url: '/v1/models', headers: { origin: 'https://evil.example' } })
  // Streams are written raw: the CORS header must still be there.
  const stream = await withCors.inject({
    method: 'POST',
    url: '/v1/completions',
    headers: { origin: 'https://ui.example' },
    payload: { model: 'fake-model', prompt: 'p', max_tokens: 1, stream: true },
  })
  await withCors.close()
  assert.equal(ok.headers['access-control-allow-origin'], 'https://ui.example')
  assert.equal(preflight.statusCode, 204)
  assert.equal(other.headers['access-control-allow-origin'], undefined)
  assert.equal(stream.headers['access-control-allow-origin'], 'https://ui.example')
})

test('plugins add routes whose typed errors render in the OpenAI shape', async () => {
  const plugin = async (app: FastifyInstance) => {
    app.get('/api/hello', async () => ({ hello: 'world' }))
    app.get('/api/fail', async () => {
      throw new InvalidInputError('bad thing', 'thing')
    })
  }
  const prefixed = {
    plugin: async (app: FastifyInstance) => {
      app.get('/x', async () => 'x')
    },
    prefix: '/api/p',
  }
  const { app } = buildApi({ service: new FakeInferenceService(), plugins: [plugin, prefixed] })
  const hello = await app.inject({ method: 'GET', url: '/api/hello' })
  const fail = await app.inject({ method: 'GET', url: '/api/fail' })
  const x = await app.inject({ method: 'GET', url: '/api/p/x' })
  await app.close()
  assert.deepEqual(hello.json(), { hello: 'world' })
  assert.equal(fail.statusCode, 400)
  assert.deepEqual(fail.json(), { error: { message: 'bad thing', type: 'invalid_request_error', param: 'thing', code: 'invalid_request_error' } })
  assert.equal(x.body, 'x')
})
