import { GovernedInferenceService } from '../governance/index.js'
import type { InferenceService, ServedModel } from '../runtime/service.js'
import { ApiModelNotFoundError } from './errors.js'

/**
 * Finds a served model by its served name or by the sha256 of its file. When the node knows the
 * model but governance does not let it be served, the answer is that decision (403
 * `model_not_admitted` / `model_retired`); a model governance admits that no worker is known to
 * serve yet is passed on to the scheduler (unless `listedOnly`, as for `GET /v1/models/:model`);
 * otherwise 404.
 */
export function findServedModel(service: InferenceService, model: string, options: { readonly listedOnly?: boolean } = {}): ServedModel {
  const wanted = model.toLowerCase()
  const found = service.listModels().find((m) => m.info.name === model || m.info.sha256 === wanted)
  if (found !== undefined) return found
  if (service instanceof GovernedInferenceService) {
    const refusal = service.refusalFor(model)
    if (refusal !== undefined) throw refusal
    // Admitted, but no worker is known to serve it yet: the scheduler may still find one (or answer 503).
    const admitted = options.listedOnly === true ? undefined : service.admittedUnlisted(model)
    if (admitted !== undefined) return admitted
  }
  throw new ApiModelNotFoundError(model)
}

/**
 * OpenAI's `system_fingerprint` identifies the backend configuration that produced an output;
 * ours is the model file's hash prefix, which with the seed determines the output.
 */
export function systemFingerprint(model: ServedModel): string {
  return `fp_${model.info.sha256.slice(0, 12)}`
}
