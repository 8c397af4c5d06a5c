import type { FastifyInstance } from 'fastify'
import type { GenerationContext, ResponseRenderer } from '../generation.js'
import { runGeneration } from '../generation.js'
import { findServedModel } from '../models.js'
import { toSamplingParams } from '../schemas/common.js'
import { parseChatCompletion } from '../schemas/chat.js'

/** Chat completion objects and chunks (OpenAI API reference, "The chat completion object"). */
const chatRenderer: ResponseRenderer = {
  idPrefix: 'chatcmpl',
  complete: (meta, text, finishReason, usage, ext) => ({
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.systemFingerprint,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage,
    commons: ext,
  }),
  opening: (meta) => chunk(meta, { role: 'assistant', content: '' }, null),
  delta: (meta, text) => chunk(meta, { content: text }, null),
  closing: (meta, finishReason, ext) => ({ ...chunk(meta, {}, finishReason), commons: ext }),
  usage: (meta, usage) => ({ ...base(meta), choices: [], usage }),
}

function base(meta: { id: string; created: number; model: string; systemFingerprint: string }) {
  return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: meta.systemFingerprint }
}

function chunk(meta: Parameters<typeof base>[0], delta: object, finishReason: string | null): object {
  return { ...base(meta), choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] }
}

/** `POST /v1/chat/completions`: renders messages with the model's chat template, then generates. */
export function chatRoutes(ctx: GenerationContext) {
  return async function chatPlugin(app: FastifyInstance): Promise<void> {
    app.post('/v1/chat/completions', async (request, reply) => {
      const body = parseChatCompletion(request.body)
      const model = findServedModel(ctx.service, body.model)
      const maxTokens = body.max_completion_tokens ?? body.max_tokens
      return runGeneration(
        ctx,
        chatRenderer,
        {
          model,
          prompt: { kind: 'chat', messages: body.messages },
          params: toSamplingParams(body, maxTokens, model.info.contextSize),
          stream: body.stream === true,
          includeUsage: body.stream_options?.include_usage === true,
          promptParam: 'messages',
        },
        request,
        reply,
      )
    })
  }
}
