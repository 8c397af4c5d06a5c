import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import OpenAI, { APIError } from 'openai'
import { spawnNode, tinyModel, type SpawnedNode } from '../helpers/node-process.js'

/**
 * A real node with ONE slot and a queue of one: aborting a stream must free the slot (otherwise
 * the next request would wait behind a 2,000-token generation), and overload answers 429.
 */

const MODEL = 'commons-tiny-s0'
let node: SpawnedNode
let client: OpenAI

before(async () => {
  const tiny = await tinyModel()
  node = await spawnNode({ args: ['--model', tiny.path, '--parallel', '1', '--max-queue', '1', '--threads', '1', '--no-p2p'] })
  client = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 })
})

after(async () => {
  await node?.stop()
})

/** Starts a long stream and resolves once its first content arrived. */
async function startLongStream(): Promise<{ abort: () => void; done: Promise<void> }> {
  const controller = new AbortController()
  const stream = await client.completions.create(
    { model: MODEL, prompt: 'A long story:', max_tokens: 2000, temperature: 1, seed: 1, stream: true },
    { signal: controller.signal },
  )
  const iterator = stream[Symbol.asyncIterator]()
  await iterator.next()
  const done = (async () => {
    try {
      while (!(await iterator.next()).done) {
        /* drain */
      }
    } catch {
      /* aborted */
    }
  })()
  return { abort: () => controller.abort(), done }
}

async function activeSlots(): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text()
  const m = /commons_active_slots\{model="commons-tiny-s0"\} (\d+)/.exec(text)
  return Number(m?.[1])
}

test('aborting a stream mid-way frees the slot: the next request runs at once', async () => {
  const long = await startLongStream()
  assert.equal(await activeSlots(), 1)
  long.abort()
  await long.done
  // A 2,000-token generation would hold the only slot for minutes; this must finish promptly.
  const next = await client.completions.create({ model: MODEL, prompt: 'Next', max_tokens: 3, seed: 2 }, { timeout: 30_000 })
  assert.equal(next.choices[0]!.finish_reason, 'length')
  assert.equal(await activeSlots(), 0)
})

test('overload: slot busy and queue full → 429 with Retry-After, streaming or not', async () => {
  const long = await startLongStream()
  // Fills the queue of one.
  const queued = client.completions.create({ model: MODEL, prompt: 'Queued', max_tokens: 2, seed: 3 })
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`${node.url}/metrics`)).text()
    if (/commons_queue_depth\{model="commons-tiny-s0"\} 1/.test(text)) break
    await new Promise((r) => setTimeout(r, 50))
  }
  for (const stream of [false, true]) {
    const res = await fetch(`${node.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'Overflow', max_tokens: 2, stream }),
    })
    assert.equal(res.status, 429)
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/)
    const body = (await res.json()) as { error: { type: string; code: string } }
    assert.equal(body.error.type, 'rate_limit_error')
    assert.equal(body.error.code, 'queue_full')
  }
  try {
    await client.completions.create({ model: MODEL, prompt: 'Overflow', max_tokens: 2 })
    assert.fail('expected 429')
  } catch (err) {
    assert.ok(err instanceof APIError)
    assert.equal(err.status, 429)
  }
  long.abort()
  await long.done
  const res = await queued
  assert.equal(res.usage!.completion_tokens, 2)
})
