import type { ModelManifest as FullManifest } from '../models/manifest.js'
import type { GenerateOptions } from '../runtime/engine.js'
import { ModelNotFoundError } from '../runtime/errors.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from '../runtime/service.js'
import { ModelNotAdmittedError, ModelRetiredError } from './errors.js'
import { governedModelsNamed, modelProvenance, servingVerdict, type ModelProvenance } from './serving.js'
import type { GovState } from './types.js'

/**
 * The state to judge by, read at each call (the node's governance service replaces it as final
 * entries arrive); undefined while governance has not started, when nothing is servable.
 */
export type GovStateSource = () => GovState | undefined

/**
 * An `InferenceService` that serves only what governance admits: it lists, and runs jobs for,
 * the models of `inner` whose file sha256 is servable in the current governance state, and
 * refuses the others with a typed 403 that quotes the decision (`ModelNotAdmittedError`,
 * `ModelRetiredError`). No I/O of its own: it reads the state through `state()`.
 *
 * The node wraps its local engines with it (so its capability record advertises, and its job
 * worker accepts, only admitted models) and the service behind the HTTP API (so `/v1/models`
 * lists only admitted models and the scheduler is never asked for another). A job is passed on
 * under the model's sha256, so the scheduler routes it only to workers with that exact file.
 */
export class GovernedInferenceService implements InferenceService {
  readonly #inner: InferenceService
  readonly #state: GovStateSource
  readonly #files: () => readonly ServedModel[]

  /**
   * @param files - model files known beyond what `inner` lists, consulted only to explain a refusal
   *   (e.g. the node's own engines, which a swarm service behind this filter lists only when admitted).
   */
  constructor(inner: InferenceService, state: GovStateSource, files?: () => readonly ServedModel[]) {
    this.#inner = inner
    this.#state = state
    this.#files = files ?? (() => [])
  }

  /** True when governance lets the model file with this sha256 be served now. */
  isServable(sha256: string): boolean {
    const state = this.#state()
    return state !== undefined && servingVerdict(state, sha256).servable
  }

  /** Provenance and admission trail of a servable model (undefined otherwise). */
  provenance(sha256: string): ModelProvenance | undefined {
    const state = this.#state()
    return state === undefined ? undefined : modelProvenance(state, sha256)
  }

  /** The inner service's models that governance admits, in the inner service's order. */
  listModels(): readonly ServedModel[] {
    const state = this.#state()
    if (state === undefined) return []
    return this.#inner.listModels().filter((m) => servingVerdict(state, m.info.sha256).servable)
  }

  /**
   * A model governance admits that `inner` does not list (no worker known to serve it yet), described
   * from its admitted manifest, so a request for it still reaches the scheduler (which may find a
   * worker, e.g. through the DHT, or answer 503). Undefined when it is listed, or not admitted.
   */
  admittedUnlisted(model: string): ServedModel | undefined {
    const state = this.#state()
    if (state === undefined) return undefined
    const wanted = model.toLowerCase()
    if (this.listModels().some((m) => m.info.name === model || m.info.sha256 === wanted)) return undefined
    const admitted = governedModelsNamed(state, model).find((k) => k.record.status === 'servable')
    if (admitted === undefined) return undefined
    // Admitted manifests passed the models layer's full schema (see serving.ts).
    const m = admitted.record.manifest as unknown as FullManifest
    return {
      info: {
        name: m.name,
        sha256: admitted.sha256,
        path: '',
        sizeBytes: m.file.size,
        contextSize: m.architecture.hyperparameters.contextLength,
        vocabSize: m.tokenizer.vocabSize,
        architecture: m.architecture.name,
        parameterCount: m.architecture.parameters,
      },
      manifest: admitted.record.manifest,
      local: false,
    }
  }

  /**
   * Why `model` (a served name or a sha256) is not served, when governance is the reason: a model
   * available here that is not admitted or was retired, or a retired model nobody serves any more.
   * Undefined when governance has no objection (unknown model, or admitted but not available).
   */
  refusalFor(model: string): ModelNotAdmittedError | ModelRetiredError | undefined {
    const state = this.#state()
    const wanted = model.toLowerCase()
    const available = [...this.#inner.listModels(), ...this.#files()].filter((m) => m.info.name === model || m.info.sha256 === wanted)
    if (state === undefined) return available[0] === undefined ? undefined : new ModelNotAdmittedError(available[0].info.name, available[0].info.sha256)
    // An admitted file of that name anywhere means the request can be served (or waits for a worker).
    if (available.some((m) => servingVerdict(state, m.info.sha256).servable)) return undefined
    const known = governedModelsNamed(state, model)
    if (known.some((k) => k.record.status === 'servable')) return undefined
    for (const m of available) {
      const verdict = servingVerdict(state, m.info.sha256)
      if (!verdict.servable && verdict.reason === 'retired') return new ModelRetiredError(m.info.name, m.info.sha256, verdict.record.retiredBy)
    }
    if (available[0] !== undefined) return new ModelNotAdmittedError(available[0].info.name, available[0].info.sha256)
    const retired = known.find((k) => k.record.status === 'retired')
    return retired === undefined ? undefined : new ModelRetiredError(retired.record.manifest.name, retired.sha256, retired.record.retiredBy)
  }

  /**
   * Runs the job on the admitted file named by `request.model` (its name or sha256), passed on
   * under its sha256. Refuses with the governance error, or `ModelNotFoundError`, otherwise.
   */
  async generate(request: InferenceRequest, options?: GenerateOptions): Promise<InferenceResult> {
    const sha256 = this.#admittedSha256(request.model)
    return this.#inner.generate({ ...request, model: sha256 }, options)
  }

  #admittedSha256(model: string): string {
    const state = this.#state()
    if (state !== undefined) {
      const wanted = model.toLowerCase()
      const local = this.#inner.listModels().find((m) => (m.info.name === model || m.info.sha256 === wanted) && servingVerdict(state, m.info.sha256).servable)
      if (local !== undefined) return local.info.sha256
      // Admitted but not listed by the inner service (e.g. a worker the scheduler has not heard from yet): let it find one.
      const admitted = governedModelsNamed(state, model).find((k) => k.record.status === 'servable')
      if (admitted !== undefined) return admitted.sha256
    }
    throw this.refusalFor(model) ?? new ModelNotFoundError(model)
  }
}
