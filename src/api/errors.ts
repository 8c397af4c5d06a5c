import { CommonsError } from '../errors.js'

/**
 * Errors the HTTP layer itself raises. Errors from lower layers (runtime, scheduler, models)
 * arrive as `CommonsError` subclasses carrying their own `code` and `status`; the API only renders
 * them (see `error-handler.ts`).
 */

/** The request body is not valid JSON. */
export class MalformedJsonError extends CommonsError {
  constructor(detail: string) {
    super('invalid_json', `We could not parse the JSON body of your request: ${detail}`, { status: 400 })
  }
}

/** The request body exceeds the API's body limit. */
export class PayloadTooLargeError extends CommonsError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The request body exceeds the limit of ${limitBytes} bytes`, { status: 413 })
  }
}

/** The request body is not `application/json`. */
export class UnsupportedMediaTypeError extends CommonsError {
  constructor(contentType: string | undefined) {
    super('unsupported_media_type', `Unsupported Content-Type '${contentType ?? ''}'; send application/json`, {
      status: 415,
    })
  }
}

/** An OpenAI option this node does not implement; we refuse it rather than silently ignore it. */
export class UnsupportedParameterError extends CommonsError {
  constructor(param: string, message: string) {
    super('unsupported_parameter', message, { status: 400, param })
  }
}

/** A field OpenAI's API does not define for this endpoint (OpenAI answers the same way). */
export class UnknownParameterError extends CommonsError {
  constructor(param: string) {
    super('unknown_parameter', `Unrecognized request argument supplied: ${param}`, { status: 400, param })
  }
}

/** A field with the wrong type or value. */
export class InvalidParameterError extends CommonsError {
  constructor(param: string | null, message: string) {
    super('invalid_value', message, { status: 400, param })
  }
}

/** The model named in the request is not served here (OpenAI's message and code). */
export class ApiModelNotFoundError extends CommonsError {
  constructor(model: string) {
    super('model_not_found', `The model \`${model}\` does not exist or is not served by this node`, {
      status: 404,
      param: 'model',
    })
  }
}

/** No route for this method + path. */
export class RouteNotFoundError extends CommonsError {
  constructor(method: string, url: string) {
    super('not_found', `Unknown request URL: ${method} ${url}`, { status: 404 })
  }
}

/** The service gave up on the request without a client disconnect (e.g. the node is stopping). */
export class GenerationAbortedError extends CommonsError {
  constructor() {
    super('generation_aborted', 'Generation was aborted by the server (the node may be shutting down)', { status: 503 })
  }
}

/** The prompt does not fit the model's context; names the request field that holds the prompt. */
export class PromptTooLongError extends CommonsError {
  constructor(message: string, param: string, cause: unknown) {
    super('context_length_exceeded', message, { status: 400, param, cause })
  }
}
