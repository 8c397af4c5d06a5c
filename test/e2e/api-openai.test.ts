import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import OpenAI, { APIError } from 'openai'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { buildManifest, type ModelManifest } from '../../src/models/manifest.js'
import { spawnNode, tinyModel, type SpawnedNode } from '../helpers/node-process.js'

/**
 * A REAL node process (tiny model, llama.cpp) driven by the official `openai` client over HTTP:
 * models, chat and completions, streaming and not, seeded determinism, parallel == sequential,
 * and every error case over the wire.
 */

const MODEL = 'commons-tiny-s0'
let node: SpawnedNode
let client: OpenAI
let manifest: ModelManifest

before(async () => {
  const tiny = await tinyModel()
  // A provenance manifest beside the file: /v1/models must carry it inline.
  manifest = await buildManifest(tiny.path, {
    name: MODEL,
    version: '0.0.1',
    license: 'Apache-2.0',
    provenance: { kind: 'synthetic', generator: 'src/models/tiny.ts writeTinyModel', seed: 0 },
  })
  writeFileSync(join(dirname(tiny.path), `${MODEL}.manifest.json`), JSON.stringify(manifest))
  node = await spawnNode({ args: ['--model', tiny.path, '--parallel', '4', '--context-size', '256', '--threads', '1', '--no-p2p'] })
  client = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 })
})

after(async () => {
  await node?.stop()
})

async function collect(stream: AsyncIterable<OpenAI.Completions.Completion>): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
  return text
}

async function expectApiError(promise: Promise<unknown>, status: number, code: string, param?: string | null): Promise<APIError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`)
    assert.equal(err.status, status)
    assert.equal(err.code, code)
    if (param !== undefined) assert.equal(err.param, param)
    assert.equal(typeof (err.error as { message?: unknown }).message, 'string')
    return err
  }
  assert.fail(`expected HTTP ${status} ${code}`)
}

describe('OpenAI client against a real node', () => {
  test('models.list shows the tiny model with sha256 and context length', async () => {
    const tiny = await tinyModel()
    const page = await client.models.list()
    assert.equal(page.data.length, 1)
    const m = page.data[0] as OpenAI.Models.Model & { sha256: string; context_length: number }
    assert.equal(m.id, MODEL)
    assert.equal(m.object, 'model')
    assert.equal(m.sha256, tiny.sha256)
    assert.equal(m.context_length, 256)
    assert.deepEqual((m as unknown as { manifest: unknown }).manifest, manifest)
    const one = await client.models.retrieve(tiny.sha256)
    assert.equal(one.id, MODEL)
  })

  test('chat completion, non-streaming: text, usage, finish_reason length', async () => {
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, seed: 1 })
    assert.equal(res.object, 'chat.completion')
    assert.equal(res.choices[0]!.message.role, 'assistant')
    assert.equal(typeof res.choices[0]!.message.content, 'string')
    assert.match(res.system_fingerprint ?? '', /^fp_[0-9a-f]{12}$/)
    assert.ok(res.usage!.prompt_tokens > 0)
    assert.ok(res.usage!.completion_tokens >= 1 && res.usage!.completion_tokens <= 6)
    assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens)
    if (res.usage!.completion_tokens === 6) assert.equal(res.choices[0]!.finish_reason, 'length')
  })

  test('completion, streaming == non-streaming for the same seed, with include_usage', async () => {
    const params = { model: MODEL, prompt: 'Commons is', max_tokens: 8, seed: 42, temperature: 0.9 }
    const plain = await client.completions.create(params)
    assert.equal(plain.choices[0]!.finish_reason, 'length')
    assert.equal(plain.usage!.completion_tokens, 8)
    const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })
    let text = ''
    let usage: OpenAI.Completions.CompletionUsage | undefined | null
    let finish: string | null | undefined
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage
      const c = chunk.choices[0]
      if (c) {
        text += c.text
        finish = c.finish_reason ?? finish
      }
    }
    assert.equal(text, plain.choices[0]!.text)
    assert.equal(finish, 'length')
    assert.deepEqual(usage, plain.usage)
  })

  test('chat streaming yields the same text as non-streaming', async () => {
    const params = { model: MODEL, messages: [{ role: 'user' as const, content: 'Tell me' }], max_tokens: 8, seed: 5 }
    const plain = await client.chat.completions.create(params)
    const stream = await client.chat.completions.create({ ...params, stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    assert.equal(text, plain.choices[0]!.message.content)
  })

  test('seeded determinism: same seed ⇒ same text, other seed ⇒ (almost surely) different', async () => {
    const run = (seed: number) => client.completions.create({ model: MODEL, prompt: 'The network', max_tokens: 12, seed, temperature: 1 })
    const [a, b, c] = [await run(7), await run(7), await run(8)]
    assert.equal(a.choices[0]!.text, b.choices[0]!.text)
    assert.notEqual(a.choices[0]!.text, c.choices[0]!.text)
  })

  test('stop sequence ends the text before it', async () => {
    const base = await client.completions.create({ model: MODEL, prompt: 'Open models', max_tokens: 12, temperature: 0 })
    const full = base.choices[0]!.text
    const cut = full.slice(3, 5)
    if (cut.length === 0) return
    const res = await client.completions.create({ model: MODEL, prompt: 'Open models', max_tokens: 12, temperature: 0, stop: [cut] })
    assert.equal(res.choices[0]!.finish_reason, 'stop')
    assert.equal(res.choices[0]!.text, full.slice(0, full.indexOf(cut)))
  })

  test('4 parallel streams give the same texts as the same requests one by one', async () => {
    const requests = [11, 12, 13, 14].map((seed) => ({ model: MODEL, prompt: `Prompt ${seed}:`, max_tokens: 10, seed, temperature: 0.8, stream: true as const }))
    const sequential: string[] = []
    for (const r of requests) sequential.push(await collect(await client.completions.create(r)))
    const parallel = await Promise.all(requests.map(async (r) => collect(await client.completions.create(r))))
    assert.deepEqual(parallel, sequential)
  })

  test('errors over the wire: 400 schema (param), 400 unsupported, 404 model, 400 context length', async () => {
    await expectApiError(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 5 }), 400, 'invalid_value', 'temperature')
    await expectApiError(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 2 }), 400, 'unsupported_parameter', 'n')
    await expectApiError(client.completions.create({ model: MODEL, prompt: 'x', echo: true }), 400, 'unsupported_parameter', 'echo')
    await expectApiError(client.completions.create({ model: 'no-such-model', prompt: 'x' }), 404, 'model_not_found', 'model')
    await expectApiError(client.completions.create({ model: MODEL, prompt: 'word '.repeat(400), max_tokens: 1 }), 400, 'context_length_exceeded', 'prompt')
    await expectApiError(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(400) }], stream: true }),
      400,
      'context_length_exceeded',
      'messages',
    )
  })

  test('errors over the wire: malformed JSON 400, body over 1 MiB 413 (raw HTTP)', async () => {
    const bad = await fetch(`${node.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' })
    assert.equal(bad.status, 400)
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_json')
    const big = await fetch(`${node.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'x'.repeat(1024 * 1024 + 1) }),
    })
    assert.equal(big.status, 413)
    assert.deepEqual(((await big.json()) as { error: { code: string; type: string } }).error.code, 'payload_too_large')
  })

  test('/healthz and /metrics over the wire', async () => {
    const health = (await (await fetch(`${node.url}/healthz`)).json()) as { status: string; models: string[] }
    assert.deepEqual(health.models, [MODEL])
    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    assert.match(metrics, /commons_tokens_generated_total\{model="commons-tiny-s0"\} \d+/)
    assert.match(metrics, /commons_active_slots\{model="commons-tiny-s0"\} 0/)
    assert.match(metrics, /commons_slots\{model="commons-tiny-s0"\} 4/)
  })
})
