import type { FastifyInstance } from 'fastify'
import type { InferenceService, ServedModel } from '../../runtime/service.js'
import { findServedModel } from '../models.js'

/**
 * OpenAI's model object (`id`, `object`, `created`, `owned_by`) plus what Commons adds: the file's
 * sha256 (the model's identity on the network), context length, size, architecture, whether this
 * node runs it, and the provenance manifest inline when there is one.
 */
export function modelObject(model: ServedModel, created: number): Record<string, unknown> {
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
    manifest: model.manifest ?? null,
  }
}

/** `GET /v1/models` and `GET /v1/models/:model` (by name or sha256). */
export function modelRoutes(service: InferenceService, startedAt: number) {
  return async function modelPlugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/models', async () => ({
      object: 'list',
      data: service.listModels().map((m) => modelObject(m, startedAt)),
    }))
    app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) =>
      modelObject(findServedModel(service, request.params.model), startedAt),
    )
  }
}
