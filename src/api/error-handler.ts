import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { CommonsError } from '../errors.js'
import { MalformedJsonError, PayloadTooLargeError, RouteNotFoundError, UnsupportedMediaTypeError } from './errors.js'

/**
 * The one registry of error codes the API can answer with, each with its HTTP status and the
 * OpenAI error `type` it renders as. Lower layers' codes are listed here too, so a reader sees
 * every possible answer in one place; an unlisted `CommonsError` still renders with its own
 * `status`, and anything that is not a `CommonsError` becomes a 500 `server_error`.
 *
 * Shape (OpenAI API reference, "Error codes"): `{"error":{"message","type","param","code"}}`.
 */
export const API_ERROR_REGISTRY = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_value: { status: 400, type: 'invalid_request_error' },
  unknown_parameter: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  // Governance does not let this model be served (src/governance/errors.ts).
  model_not_admitted: { status: 403, type: 'invalid_request_error' },
  model_retired: { status: 403, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  queue_full: { status: 429, type: 'rate_limit_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  server_error: { status: 500, type: 'server_error' },
  model_load_failed: { status: 500, type: 'server_error' },
  decode_failed: { status: 500, type: 'server_error' },
  engine_unloaded: { status: 503, type: 'service_unavailable_error' },
  no_worker_available: { status: 503, type: 'service_unavailable_error' },
  generation_aborted: { status: 503, type: 'service_unavailable_error' },
} as const satisfies Record<string, { status: number; type: string }>

/** The JSON body of every error response. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** A rendered error: status, body and extra headers (`Retry-After` on overload). */
export interface RenderedError {
  status: number
  body: OpenAiErrorBody
  headers: Record<string, string>
}

function typeForStatus(status: number): string {
  if (status === 429) return 'rate_limit_error'
  if (status === 503) return 'service_unavailable_error'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

/** Maps Fastify's own errors (body parsing, limits) onto our typed errors. */
function fromFastify(err: FastifyError, bodyLimit: number): CommonsError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(undefined)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedJsonError('the body is empty')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MalformedJsonError(err.message)
    default:
      break
  }
  // secure-json-parse throws a SyntaxError that Fastify tags with statusCode 400.
  if (err instanceof SyntaxError && err.statusCode === 400) return new MalformedJsonError(err.message)
  if (err.statusCode === 413) return new PayloadTooLargeError(bodyLimit)
  return undefined
}

/** Renders any thrown value as an OpenAI-shaped error. Pure, so tests and streaming share it. */
export function renderError(err: unknown, bodyLimit: number): RenderedError {
  const typed = err instanceof CommonsError ? err : fromFastify(err as FastifyError, bodyLimit)
  if (typed === undefined) {
    return {
      status: 500,
      body: { error: { message: 'The server had an error while processing your request', type: 'server_error', param: null, code: 'server_error' } },
      headers: {},
    }
  }
  const known = (API_ERROR_REGISTRY as Record<string, { status: number; type: string } | undefined>)[typed.code]
  const status = known?.status ?? typed.status
  const headers: Record<string, string> = {}
  const retryAfter = (typed as { retryAfterSeconds?: unknown }).retryAfterSeconds
  if (status === 429 || status === 503) {
    // RFC 9110 §10.2.3: delay-seconds, a non-negative integer.
    headers['retry-after'] = String(typeof retryAfter === 'number' && retryAfter >= 0 ? Math.ceil(retryAfter) : 1)
  }
  return {
    status,
    body: { error: { message: typed.message, type: known?.type ?? typeForStatus(status), param: typed.param, code: typed.code } },
    headers,
  }
}

/** Installs the error and not-found handlers on `app`. 5xx are logged with their cause; 4xx are not. */
export function installErrorHandler(app: FastifyInstance, logger: Logger, bodyLimit: number): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const rendered = renderError(err, bodyLimit)
    if (rendered.status >= 500) logger.error({ err, url: request.url }, 'request failed')
    void reply.code(rendered.status).headers(rendered.headers).send(rendered.body)
  })
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const rendered = renderError(new RouteNotFoundError(request.method, request.url), bodyLimit)
    void reply.code(rendered.status).send(rendered.body)
  })
}
