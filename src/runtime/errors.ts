import { CommonsError } from '../errors.js'

/**
 * Typed errors of the runtime layer. `status` is what the API layer answers with; `code` is the
 * OpenAI-style error code clients branch on.
 */

/** The model file is missing, unreadable, or not a GGUF llama.cpp can load. */
export class ModelLoadError extends CommonsError {
  readonly modelPath: string
  constructor(modelPath: string, reason: string, cause?: unknown) {
    super('model_load_failed', `cannot load model ${modelPath}: ${reason}`, { status: 500, cause })
    this.modelPath = modelPath
  }
}

/** All slots are busy and the waiting queue is full: HTTP 429 with `Retry-After`. */
export class QueueFullError extends CommonsError {
  /** Seconds after which a retry has a fair chance of being admitted. */
  readonly retryAfterSeconds: number
  constructor(maxQueue: number, retryAfterSeconds: number) {
    super('queue_full', `the model is busy: all slots are in use and ${maxQueue} requests are already waiting; retry in ${retryAfterSeconds}s`, { status: 429 })
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** The prompt (plus at least one generated token) does not fit a slot's context. */
export class ContextLengthExceededError extends CommonsError {
  readonly promptTokens: number
  readonly contextSize: number
  constructor(promptTokens: number, contextSize: number, param: string | null = null) {
    super(
      'context_length_exceeded',
      `this model's context is ${contextSize} tokens, but the prompt has ${promptTokens} tokens and at least 1 token must be generated`,
      { status: 400, param },
    )
    this.promptTokens = promptTokens
    this.contextSize = contextSize
  }
}

/** No loaded model has this name or sha256. */
export class ModelNotFoundError extends CommonsError {
  constructor(model: string) {
    super('model_not_found', `the model '${model}' does not exist or is not served here`, { status: 404, param: 'model' })
  }
}

/** The engine was unloaded; it takes no new requests. */
export class EngineUnloadedError extends CommonsError {
  constructor(name: string) {
    super('engine_unloaded', `the model '${name}' has been unloaded`, { status: 503 })
  }
}

/** llama.cpp failed while decoding (out of KV cells, backend error): an internal error. */
export class DecodeError extends CommonsError {
  constructor(message: string, cause?: unknown) {
    super('decode_failed', `llama.cpp decode failed: ${message}`, { status: 500, cause })
  }
}
