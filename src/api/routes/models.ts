import type { FastifyInstance } from 'fastify'
import { GovernedInferenceService, type ModelProvenance } from '../../governance/index.js'
import type { InferenceService, ServedModel } from '../../runtime/service.js'
import { findServedModel } from '../models.js'

/**
 * Provenance as `/v1/models` shows it (snake_case like the rest of the model object): license,
 * training data, code, evaluation, the admitted manifest's hash, and the admission — the genesis,
 * or the proposal with the log indexes of its propose and vote entries ("why is this model served?").
 */
function provenanceObject(p: ModelProvenance): Record<string, unknown> {
  return {
    license: p.license,
    origin: p.origin,
    training_data: p.trainingData,
    code: p.code,
    evaluation: p.evaluation,
    manifest_sha256: p.manifestSha256,
  }
}

function admissionObject(p: ModelProvenance): Record<string, unknown> {
  const a = p.admission
  return { by: a.by, proposal: a.proposal, proposer: a.proposer, entries: a.entries, network: a.network, admitted_at: a.at }
}

/**
 * OpenAI's model object (`id`, `object`, `created`, `owned_by`) plus what Commons adds: the file's
 * sha256 (the model's identity on the network), context length, size, architecture, whether this
 * node runs it, and — when governance decides what is served — the manifest admitted by the log
 * with its provenance and admission trail; otherwise the manifest beside the file, if any.
 */
export function modelObject(model: ServedModel, created: number, provenance?: ModelProvenance): Record<string, unknown> {
  const { info } = model
  return {
    id: info.name,
    object: 'model',
    created,
    owned_by: 'commons',
    sha256: info.sha256,
    context_length: info.contextSize,
    size_bytes: info.sizeBytes,
    architecture: info.architecture,
    parameter_count: info.parameterCount,
    vocab_size: info.vocabSize,
    local: model.local,
    manifest: provenance?.manifest ?? model.manifest ?? null,
    ...(provenance === undefined ? {} : { provenance: provenanceObject(provenance), admission: admissionObject(provenance) }),
  }
}

/** `GET /v1/models` and `GET /v1/models/:model` (by name or sha256). */
export function modelRoutes(service: InferenceService, startedAt: number) {
  const provenanceOf = (m: ServedModel): ModelProvenance | undefined =>
    service instanceof GovernedInferenceService ? service.provenance(m.info.sha256) : undefined
  return async function modelPlugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/models', async () => ({
      object: 'list',
      data: service.listModels().map((m) => modelObject(m, startedAt, provenanceOf(m))),
    }))
    app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
      // Like the list: only models a worker serves now.
      const model = findServedModel(service, request.params.model, { listedOnly: true })
      return modelObject(model, startedAt, provenanceOf(model))
    })
  }
}
