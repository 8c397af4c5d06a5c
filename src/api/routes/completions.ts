import type { FastifyInstance } from 'fastify'
import type { GenerationContext, ResponseMeta, ResponseRenderer } from '../generation.js'
import { runGeneration } from '../generation.js'
import { findServedModel } from '../models.js'
import { toSamplingParams } from '../schemas/common.js'
import { parseCompletion } from '../schemas/completions.js'

function base(meta: ResponseMeta) {
  return { id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, system_fingerprint: meta.systemFingerprint }
}

function choice(text: string, finishReason: string | null): object {
  return { text, index: 0, logprobs: null, finish_reason: finishReason }
}

/** Legacy completion objects; stream chunks have the same shape (OpenAI API reference, "Completions"). */
const completionRenderer: ResponseRenderer = {
  idPrefix: 'cmpl',
  complete: (meta, text, finishReason, usage, ext) => ({ ...base(meta), choices: [choice(text, finishReason)], usage, commons: ext }),
  opening: () => undefined,
  delta: (meta, text) => ({ ...base(meta), choices: [choice(text, null)] }),
  closing: (meta, finishReason, ext) => ({ ...base(meta), choices: [choice('', finishReason)], commons: ext }),
  usage: (meta, usage) => ({ ...base(meta), choices: [], usage }),
}

/** `POST /v1/completions`: raw text continuation, no chat template. */
export function completionRoutes(ctx: GenerationContext) {
  return async function completionPlugin(app: FastifyInstance): Promise<void> {
    app.post('/v1/completions', async (request, reply) => {
      const body = parseCompletion(request.body)
      const model = findServedModel(ctx.service, body.model)
      return runGeneration(
        ctx,
        completionRenderer,
        {
          model,
          prompt: { kind: 'completion', prompt: body.prompt },
          params: toSamplingParams(body, body.max_tokens, model.info.contextSize),
          stream: body.stream === true,
          includeUsage: body.stream_options?.include_usage === true,
          promptParam: 'prompt',
        },
        request,
        reply,
      )
    })
  }
}
