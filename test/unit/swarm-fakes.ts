/**
 * Fakes at the edge for swarm tests that are about networking, not models: a deterministic
 * counter-based "engine" behind the InferenceService interface (token t of seed s is a pure
 * function of (s, t), like the real sampler), with optional per-token delay and failures.
 */
import { CommonsError } from '../../src/errors.js'
import type { GenerateOptions, GeneratedToken } from '../../src/runtime/engine.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from '../../src/runtime/service.js'
import type { SamplingParams } from '../../src/runtime/engine.js'

export const FAKE_SHA = 'ab'.repeat(32)

export function fakeParams(overrides: Partial<SamplingParams> = {}): SamplingParams {
  return { temperature: 0.8, topP: 0.95, topK: 40, minP: 0.05, repeatPenalty: 1, repeatLastN: 64, seed: 42, maxTokens: 8, stop: [], ...overrides }
}

/** Token id of output position t under seed s. */
export function fakeToken(seed: number, t: number): number {
  return ((seed * 2654435761 + t * 40503) >>> 0) % 1000
}

export class FakeInferenceService implements InferenceService {
  readonly nodeId: string
  tokenDelayMs: number
  /** Wait before the first token (a queue or a long prefill). */
  queueDelayMs = 0
  /** Fails every job with this error, when set. */
  failWith: CommonsError | undefined
  aborted = 0
  started = 0

  constructor(nodeId: string, tokenDelayMs = 0) {
    this.nodeId = nodeId
    this.tokenDelayMs = tokenDelayMs
  }

  listModels(): readonly ServedModel[] {
    return [{ local: true, info: { name: 'fake', sha256: FAKE_SHA, path: '/dev/null', sizeBytes: 0, contextSize: 512, vocabSize: 1000, architecture: 'fake', parameterCount: 0 } }]
  }

  async generate(request: InferenceRequest, options: GenerateOptions = {}): Promise<InferenceResult> {
    this.started++
    if (request.model !== 'fake' && request.model !== FAKE_SHA) throw new CommonsError('model_not_found', `no model ${request.model}`, { status: 404 })
    if (this.failWith !== undefined) throw this.failWith
    if (this.queueDelayMs > 0) await new Promise((r) => setTimeout(r, this.queueDelayMs))
    const resume = request.resumeTokens ?? []
    const tokens = [...resume]
    let text = ''
    let finishReason: 'length' | 'abort' = 'length'
    for (let t = resume.length; t < request.params.maxTokens; t++) {
      if (this.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, this.tokenDelayMs))
      if (options.signal?.aborted === true) {
        this.aborted++
        finishReason = 'abort'
        break
      }
      const id = fakeToken(request.params.seed, t)
      const tok: GeneratedToken = { index: t, id, text: `w${id} `, logprob: -(id % 7) / 8 }
      tokens.push(id)
      text += tok.text
      options.onToken?.(tok)
    }
    return {
      model: 'fake', servedBy: this.nodeId, text, tokens, promptTokens: 3, completionTokens: tokens.length, finishReason,
      timings: { queuedMs: 0, timeToFirstTokenMs: 1, decodeMs: 1 },
    }
  }
}

/** The text an undisturbed run produces. */
export function fakeText(seed: number, maxTokens: number): string {
  let s = ''
  for (let t = 0; t < maxTokens; t++) s += `w${fakeToken(seed, t)} `
  return s
}
