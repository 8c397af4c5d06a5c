import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Engine, GeneratedToken, GenerateResult, SamplingParams } from '../../src/runtime/engine.js'
import { ContextLengthExceededError, QueueFullError } from '../../src/runtime/errors.js'
import { InvalidInputError } from '../../src/errors.js'

/**
 * Conformance suite every `Engine` implementation must pass (STYLE.md, "Shared conformance
 * suites"). `create` builds a fresh engine over a small model; the suite unloads it.
 */
export interface EngineSuiteOptions {
  readonly name: string
  readonly create: (options: { parallel: number; maxQueue: number; contextSize: number }) => Promise<Engine>
}

export const baseParams: SamplingParams = {
  temperature: 0,
  topP: 1,
  topK: 0,
  minP: 0,
  repeatPenalty: 1,
  repeatLastN: 64,
  seed: 1,
  maxTokens: 24,
  stop: [],
}

const prompts = ['the water is', 'one day we', 'find the long', 'what time do']

async function withEngine(
  suite: EngineSuiteOptions,
  options: { parallel?: number; maxQueue?: number; contextSize?: number },
  body: (engine: Engine) => Promise<void>,
): Promise<void> {
  const engine = await suite.create({ parallel: options.parallel ?? 4, maxQueue: options.maxQueue ?? 8, contextSize: options.contextSize ?? 256 })
  try {
    await body(engine)
  } finally {
    await engine.unload()
  }
}

/** Resolves when `onToken` has seen `count` tokens. */
function tokenCounter(count: number): { onToken: (t: GeneratedToken) => void; reached: Promise<void> } {
  let seen = 0
  let resolve!: () => void
  const reached = new Promise<void>((r) => {
    resolve = r
  })
  return {
    onToken: () => {
      seen++
      if (seen === count) resolve()
    },
    reached,
  }
}

export function runEngineSuite(suite: EngineSuiteOptions): void {
  test(`${suite.name}: tokenize and detokenize round-trip`, async () => {
    await withEngine(suite, { parallel: 1 }, async (engine) => {
      const tokens = engine.tokenize('the water is long')
      assert.ok(tokens.length > 0)
      assert.ok(tokens.every((t) => Number.isInteger(t) && t >= 0 && t < engine.model.vocabSize))
      assert.equal(engine.detokenize(tokens), 'the water is long')
      assert.equal(engine.model.sha256.length, 64)
      assert.ok(engine.model.contextSize === 256)
    })
  })

  test(`${suite.name}: greedy and seeded generation are deterministic`, async () => {
    await withEngine(suite, { parallel: 2 }, async (engine) => {
      const greedyA = await engine.generate({ prompt: prompts[0]!, params: baseParams })
      const greedyB = await engine.generate({ prompt: prompts[0]!, params: baseParams })
      assert.deepEqual(greedyA.tokens, greedyB.tokens)
      assert.equal(greedyA.text, greedyB.text)
      assert.ok(greedyA.tokens.length > 0)
      const sampled = { ...baseParams, temperature: 1, seed: 42 }
      const a = await engine.generate({ prompt: prompts[0]!, params: sampled })
      const b = await engine.generate({ prompt: prompts[0]!, params: sampled })
      const c = await engine.generate({ prompt: prompts[0]!, params: { ...sampled, seed: 43 } })
      assert.deepEqual(a.tokens, b.tokens)
      assert.notDeepEqual(a.tokens, c.tokens, 'another seed should give another sample')
      assert.notDeepEqual(a.tokens, greedyA.tokens, 'temperature 1 should differ from greedy')
    })
  })

  test(`${suite.name}: 4 parallel requests give the same output as run one by one`, async () => {
    await withEngine(suite, { parallel: 4 }, async (engine) => {
      const requests = prompts.map((prompt, i) => ({
        prompt,
        params: { ...baseParams, temperature: i % 2 === 0 ? 0.9 : 0, seed: 100 + i, maxTokens: 20 + 3 * i },
      }))
      const sequential: GenerateResult[] = []
      for (const r of requests) sequential.push(await engine.generate(r))
      const streamed: string[] = ['', '', '', '']
      const parallel = await Promise.all(
        requests.map((r, i) => engine.generate(r, { onToken: (t) => (streamed[i] += t.text) })),
      )
      for (const [i, result] of parallel.entries()) {
        assert.deepEqual(result.tokens, sequential[i]!.tokens, `request ${i}`)
        assert.equal(result.text, sequential[i]!.text)
        assert.equal(streamed[i], result.text, 'streamed text equals the final text')
      }
    })
  })

  test(`${suite.name}: max_tokens ends with 'length' and usage counts`, async () => {
    await withEngine(suite, { parallel: 1 }, async (engine) => {
      const indexes: number[] = []
      const r = await engine.generate(
        { prompt: prompts[1]!, params: { ...baseParams, temperature: 0.8, maxTokens: 7 } },
        { onToken: (t) => indexes.push(t.index) },
      )
      assert.equal(r.finishReason, 'length')
      assert.equal(r.completionTokens, 7)
      assert.equal(r.tokens.length, 7)
      assert.deepEqual(indexes, [0, 1, 2, 3, 4, 5, 6])
      assert.equal(r.promptTokens, engine.tokenize(prompts[1]!).length + 1) // + BOS
    })
  })

  test(`${suite.name}: stop sequences end the output before the stop string`, async () => {
    await withEngine(suite, { parallel: 1 }, async (engine) => {
      const free = await engine.generate({ prompt: prompts[2]!, params: { ...baseParams, maxTokens: 40 } })
      // Pick a stop string from the middle of the free-running output.
      const chars = [...free.text]
      const start = Math.floor(chars.length / 2)
      const stop = chars.slice(start, start + 2).join('')
      const expected = free.text.slice(0, free.text.indexOf(stop))
      let streamed = ''
      const stopped = await engine.generate(
        { prompt: prompts[2]!, params: { ...baseParams, maxTokens: 40, stop: [stop] } },
        { onToken: (t) => (streamed += t.text) },
      )
      assert.equal(stopped.finishReason, 'stop')
      assert.equal(stopped.text, expected)
      assert.equal(streamed, expected, 'no part of the stop string is streamed')
    })
  })

  test(`${suite.name}: resumeTokens continue a stream exactly at index t`, async () => {
    await withEngine(suite, { parallel: 1 }, async (engine) => {
      const params = { ...baseParams, temperature: 0.8, seed: 5, maxTokens: 20 }
      const full = await engine.generate({ prompt: prompts[3]!, params })
      assert.equal(full.tokens.length, 20)
      const indexes: number[] = []
      const resumed = await engine.generate(
        { prompt: prompts[3]!, params, resumeTokens: full.tokens.slice(0, 7) },
        { onToken: (t) => indexes.push(t.index) },
      )
      assert.deepEqual(resumed.tokens, full.tokens)
      assert.equal(resumed.completionTokens, 20)
      assert.equal(indexes[0], 7)
      assert.equal(indexes.length, 13)
    })
  })

  test(`${suite.name}: abort frees the slot at once`, async () => {
    await withEngine(suite, { parallel: 1, maxQueue: 1 }, async (engine) => {
      const controller = new AbortController()
      const counter = tokenCounter(3)
      const long = engine.generate(
        { prompt: prompts[0]!, params: { ...baseParams, maxTokens: 100_000 } },
        { signal: controller.signal, onToken: counter.onToken },
      )
      await counter.reached
      assert.equal(engine.stats().activeSlots, 1)
      controller.abort()
      const aborted = await long
      assert.equal(aborted.finishReason, 'abort')
      assert.equal(engine.stats().activeSlots, 0)
      const next = await engine.generate({ prompt: prompts[1]!, params: { ...baseParams, maxTokens: 5 } })
      assert.equal(next.finishReason, 'length')
      assert.equal(next.completionTokens, 5)
    })
  })

  test(`${suite.name}: a full queue rejects with QueueFullError (429)`, async () => {
    await withEngine(suite, { parallel: 1, maxQueue: 1 }, async (engine) => {
      const controller = new AbortController()
      const params = { ...baseParams, maxTokens: 100_000 }
      const running = engine.generate({ prompt: prompts[0]!, params }, { signal: controller.signal })
      const waiting = engine.generate({ prompt: prompts[1]!, params }, { signal: controller.signal })
      await assert.rejects(engine.generate({ prompt: prompts[2]!, params }), (error: unknown) => {
        assert.ok(error instanceof QueueFullError)
        assert.equal(error.status, 429)
        assert.ok(error.retryAfterSeconds >= 1)
        return true
      })
      assert.equal(engine.stats().queueDepth + engine.stats().activeSlots, 2)
      controller.abort()
      assert.equal((await running).finishReason, 'abort')
      assert.equal((await waiting).finishReason, 'abort')
    })
  })

  test(`${suite.name}: a prompt longer than the context is rejected with context_length_exceeded`, async () => {
    await withEngine(suite, { parallel: 1, contextSize: 64 }, async (engine) => {
      const prompt = 'the water is long '.repeat(40)
      await assert.rejects(engine.generate({ prompt, params: baseParams }), (error: unknown) => {
        assert.ok(error instanceof ContextLengthExceededError)
        assert.equal(error.status, 400)
        assert.equal(error.code, 'context_length_exceeded')
        return true
      })
      // A prompt that fits generates until the context is full (unless the model ends first:
      // try a few seeds; each run ends one way or the other).
      let filled: GenerateResult | undefined
      for (let seed = 0; seed < 10 && filled === undefined; seed++) {
        const r = await engine.generate({ prompt: 'the water', params: { ...baseParams, temperature: 1, seed, maxTokens: 1000 } })
        assert.ok(r.promptTokens + r.completionTokens <= 64 + 1)
        if (r.finishReason === 'length') filled = r
      }
      assert.ok(filled !== undefined, 'some run fills the context')
      assert.equal(filled.promptTokens + filled.completionTokens, 64 + 1)
    })
  })

  test(`${suite.name}: bad token ids and failing consumers end only their own request`, async () => {
    await withEngine(suite, { parallel: 2 }, async (engine) => {
      await assert.rejects(
        engine.generate({ prompt: [1, engine.model.vocabSize + 5], params: baseParams }),
        (error: unknown) => error instanceof InvalidInputError && error.param === 'prompt',
      )
      await assert.rejects(
        engine.generate({ prompt: prompts[0]!, params: baseParams, resumeTokens: [-1] }),
        (error: unknown) => error instanceof InvalidInputError,
      )
      const failing = engine.generate(
        { prompt: prompts[0]!, params: { ...baseParams, maxTokens: 50 } },
        { onToken: () => { throw new Error('consumer went away') } },
      )
      const healthy = engine.generate({ prompt: prompts[1]!, params: { ...baseParams, maxTokens: 10 } })
      await assert.rejects(failing, /consumer went away/)
      assert.equal((await healthy).completionTokens, 10)
      const ids = engine.tokenize(prompts[2]!)
      const fromIds = await engine.generate({ prompt: ids, params: { ...baseParams, maxTokens: 5 } })
      assert.equal(fromIds.promptTokens, ids.length)
    })
  })

  test(`${suite.name}: unload ends pending requests with 'abort'`, async () => {
    const engine = await suite.create({ parallel: 1, maxQueue: 2, contextSize: 256 })
    const params = { ...baseParams, maxTokens: 100_000 }
    const counter = tokenCounter(1)
    const running = engine.generate({ prompt: prompts[0]!, params }, { onToken: counter.onToken })
    const queued = engine.generate({ prompt: prompts[1]!, params })
    await counter.reached
    await engine.unload()
    assert.equal((await running).finishReason, 'abort')
    assert.equal((await queued).finishReason, 'abort')
  })
}
