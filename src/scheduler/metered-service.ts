import type { GenerateOptions } from '../runtime/engine.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from '../runtime/service.js'

/**
 * Wraps the local service to measure decode speed (tokens/s per slot, moving average) from each
 * finished job's own timings: the figure a worker advertises in its capability record and the
 * scheduler uses for the local candidate.
 */
export class MeteredService implements InferenceService {
  readonly #inner: InferenceService
  #tokensPerSecond = 0

  constructor(inner: InferenceService) {
    this.#inner = inner
  }

  /** Measured decode speed; 0 until a job with at least two generated tokens finished. */
  get tokensPerSecond(): number {
    return this.#tokensPerSecond
  }

  listModels(): readonly ServedModel[] {
    return this.#inner.listModels()
  }

  async generate(request: InferenceRequest, options?: GenerateOptions): Promise<InferenceResult> {
    const result = await this.#inner.generate(request, options)
    const decoded = result.completionTokens - (request.resumeTokens?.length ?? 0) - 1
    if (decoded > 0 && result.timings.decodeMs > 0) {
      const tps = (decoded * 1000) / result.timings.decodeMs
      this.#tokensPerSecond = this.#tokensPerSecond === 0 ? tps : this.#tokensPerSecond + 0.3 * (tps - this.#tokensPerSecond)
    }
    return result
  }
}
