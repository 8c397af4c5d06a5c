import type { Engine, GenerateOptions } from './engine.js'
import { ModelNotFoundError } from './errors.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from './service.js'

/**
 * `InferenceService` over the engines loaded in this process: finds the engine by served name or
 * by the sha256 of its file, renders chat with the engine's template, and runs the job there.
 */
export class LocalInferenceService implements InferenceService {
  private readonly servedBy: string
  private readonly engines = new Map<string, { engine: Engine; manifest?: Readonly<Record<string, unknown>> }>()

  /** @param servedBy - node id (hex public key) reported as `servedBy` on every result. */
  constructor(servedBy: string, engines: readonly Engine[] = []) {
    this.servedBy = servedBy
    for (const engine of engines) this.addEngine(engine)
  }

  /** Serves `engine` under its `model.name` (replacing an engine of the same name). */
  addEngine(engine: Engine, manifest?: Readonly<Record<string, unknown>>): void {
    this.engines.set(engine.model.name, manifest === undefined ? { engine } : { engine, manifest })
  }

  /** Stops serving the named model; returns the engine so the caller can unload it. */
  removeEngine(name: string): Engine | undefined {
    const entry = this.engines.get(name)
    this.engines.delete(name)
    return entry?.engine
  }

  /** The engine serving `model` (a name or a file sha256); throws `ModelNotFoundError`. */
  engineFor(model: string): Engine {
    const byName = this.engines.get(model)
    if (byName !== undefined) return byName.engine
    const wanted = model.toLowerCase()
    for (const { engine } of this.engines.values()) if (engine.model.sha256 === wanted) return engine
    throw new ModelNotFoundError(model)
  }

  listModels(): readonly ServedModel[] {
    return [...this.engines.values()].map(({ engine, manifest }) =>
      manifest === undefined ? { info: engine.model, local: true } : { info: engine.model, manifest, local: true },
    )
  }

  async generate(request: InferenceRequest, options: GenerateOptions = {}): Promise<InferenceResult> {
    const engine = this.engineFor(request.model)
    let prompt: string
    let params = request.params
    if (request.prompt.kind === 'completion') {
      prompt = request.prompt.prompt
    } else {
      prompt = engine.applyChatTemplate(request.prompt.messages)
      const implied = (engine.chatStop ?? []).filter((s) => !params.stop.includes(s))
      if (implied.length > 0) params = { ...params, stop: [...params.stop, ...implied] }
    }
    const result = await engine.generate(
      request.resumeTokens === undefined ? { prompt, params } : { prompt, params, resumeTokens: request.resumeTokens },
      options,
    )
    return { ...result, model: engine.model.name, servedBy: this.servedBy }
  }
}
