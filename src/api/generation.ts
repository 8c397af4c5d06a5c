import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { GeneratedToken, SamplingParams } from '../runtime/engine.js'
import type { InferenceResult, InferenceService, Prompt, ServedModel } from '../runtime/service.js'
import { renderError } from './error-handler.js'
import { CommonsError } from '../errors.js'
import { GenerationAbortedError, PromptTooLongError } from './errors.js'
import type { ApiMetrics } from './metrics.js'
import { systemFingerprint } from './models.js'
import { SseWriter } from './sse.js'

/** What the generation routes need from the app. */
export interface GenerationContext {
  readonly service: InferenceService
  readonly metrics: ApiMetrics
  readonly logger: Logger
  readonly bodyLimit: number
}

/** Identity of one response, shared by all its chunks. */
export interface ResponseMeta {
  readonly id: string
  readonly created: number
  readonly model: string
  readonly systemFingerprint: string
}

export interface Usage {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens: number
}

/** Our extension beside OpenAI's fields: who ran the job and with which seed (for replay). */
export interface CommonsExtension {
  readonly served_by: string
  readonly seed: number
  readonly receipt_id?: string
}

/** How one endpoint (chat or legacy completions) renders results and stream chunks. */
export interface ResponseRenderer {
  readonly idPrefix: string
  complete(meta: ResponseMeta, text: string, finishReason: 'stop' | 'length', usage: Usage, ext: CommonsExtension): object
  /** Chunk sent before any content (chat announces the assistant role); none for completions. */
  opening(meta: ResponseMeta): object | undefined
  delta(meta: ResponseMeta, text: string): object
  closing(meta: ResponseMeta, finishReason: 'stop' | 'length', ext: CommonsExtension): object
  usage(meta: ResponseMeta, usage: Usage): object
}

/** A validated generation request, whatever the endpoint. */
export interface GenerationJob {
  readonly model: ServedModel
  readonly prompt: Prompt
  readonly params: SamplingParams
  readonly stream: boolean
  readonly includeUsage: boolean
  /** Request field holding the prompt (`messages` or `prompt`), named by context-length errors. */
  readonly promptParam: string
}

function usageOf(result: InferenceResult): Usage {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
  }
}

function extensionOf(result: InferenceResult, seed: number): CommonsExtension {
  return result.receiptId === undefined
    ? { served_by: result.servedBy, seed }
    : { served_by: result.servedBy, seed, receipt_id: result.receiptId }
}

/**
 * Runs one job and answers it, streaming or not. A client disconnect (the response socket closes
 * before we finished writing) aborts generation through the AbortSignal, which frees the slot.
 * Errors before the first byte of a stream get a proper HTTP status (so 429/400/404 work for
 * streaming clients too); errors after it arrive as an in-stream `{"error":…}` event.
 */
export async function runGeneration(
  ctx: GenerationContext,
  renderer: ResponseRenderer,
  job: GenerationJob,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const receivedAt = performance.now()
  const modelName = job.model.info.name
  const meta: ResponseMeta = {
    id: `${renderer.idPrefix}-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    systemFingerprint: systemFingerprint(job.model),
  }
  const abort = new AbortController()
  const res = reply.raw
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort()
  }
  res.on('close', onClose)

  let firstTokenSeen = false
  const onFirstToken = (): void => {
    if (firstTokenSeen) return
    firstTokenSeen = true
    ctx.metrics.timeToFirstToken.observe({ model: modelName }, (performance.now() - receivedAt) / 1000)
  }

  let sse: SseWriter | undefined
  const openStream = (): SseWriter => {
    if (sse !== undefined) return sse
    reply.hijack()
    sse = new SseWriter(res)
    sse.open(reply.getHeaders() as Record<string, string | number | string[]>)
    const opening = renderer.opening(meta)
    if (opening !== undefined) sse.send(withUsageField(opening, job.includeUsage))
    return sse
  }
  const onToken = (token: GeneratedToken): void => {
    onFirstToken()
    if (!job.stream) return
    const writer = openStream()
    if (token.text !== '') writer.send(withUsageField(renderer.delta(meta, token.text), job.includeUsage))
  }

  let result: InferenceResult
  try {
    result = await ctx.service.generate(
      { model: modelName, prompt: job.prompt, params: job.params },
      { signal: abort.signal, onToken },
    )
  } catch (err) {
    if (sse === undefined && !abort.signal.aborted) throw withPromptParam(err, job.promptParam)
    res.off('close', onClose)
    return finishBroken(ctx, sse, err, reply, request)
  }
  res.off('close', onClose)
  recordResult(ctx, modelName, result)

  if (abort.signal.aborted) {
    // The client left; nobody is there to answer.
    ctx.metrics.requests.inc({ route: request.routeOptions.url ?? request.url, method: request.method, status: '499' })
    if (sse === undefined) reply.hijack()
    return reply
  }
  if (result.finishReason === 'abort') {
    if (sse === undefined) throw new GenerationAbortedError()
    return finishBroken(ctx, sse, new GenerationAbortedError(), reply, request)
  }
  const finishReason = result.finishReason
  const ext = extensionOf(result, job.params.seed)
  if (!job.stream) {
    return renderer.complete(meta, result.text, finishReason, usageOf(result), ext)
  }
  const writer = openStream()
  writer.send(withUsageField(renderer.closing(meta, finishReason, ext), job.includeUsage))
  // OpenAI: with include_usage, one last chunk with empty choices carries the usage of the request.
  if (job.includeUsage) writer.send(renderer.usage(meta, usageOf(result)))
  writer.done()
  return reply
}

/** Runtime errors do not know which request field held the prompt; OpenAI names it. */
function withPromptParam(err: unknown, param: string): unknown {
  if (err instanceof CommonsError && err.code === 'context_length_exceeded' && err.param === null) {
    return new PromptTooLongError(err.message, param, err)
  }
  return err
}

/** With include_usage, OpenAI sends `usage: null` on every chunk but the last. */
function withUsageField(chunk: object, includeUsage: boolean): object {
  return includeUsage ? { ...chunk, usage: null } : chunk
}

function recordResult(ctx: GenerationContext, model: string, result: InferenceResult): void {
  ctx.metrics.tokensGenerated.inc({ model }, result.completionTokens)
  const decodeSeconds = result.timings.decodeMs / 1000
  if (result.completionTokens > 1 && decodeSeconds > 0) {
    ctx.metrics.tokensPerSecond.observe({ model }, (result.completionTokens - 1) / decodeSeconds)
  }
}

function finishBroken(
  ctx: GenerationContext,
  sse: SseWriter | undefined,
  err: unknown,
  reply: FastifyReply,
  request: FastifyRequest,
): FastifyReply {
  if (sse === undefined) {
    // Client gone before the stream opened.
    reply.hijack()
    return reply
  }
  const rendered = renderError(err, ctx.bodyLimit)
  if (rendered.status >= 500) ctx.logger.error({ err, url: request.url }, 'generation failed mid-stream')
  sse.send(rendered.body)
  sse.end()
  return reply
}
