/**
 * Base of every typed error in Commons. Each layer declares its own subclasses in its `errors.ts`;
 * callers branch on `code`, never on message text. `status` is the HTTP status the API layer uses
 * when the error reaches a client; layers below the API set it because they know the semantics
 * (bad input vs overload vs internal), the API only renders it.
 */
export class CommonsError extends Error {
  readonly code: string
  readonly status: number
  readonly param: string | null

  constructor(code: string, message: string, options: { status?: number; param?: string | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = options.status ?? 500
    this.param = options.param ?? null
  }
}

/** Input that failed validation at a boundary (CLI flag, HTTP body, file on disk, peer message). */
export class InvalidInputError extends CommonsError {
  constructor(message: string, param: string | null = null, cause?: unknown) {
    super('invalid_request_error', message, { status: 400, param, cause })
  }
}
