import { CommonsError } from '../errors.js'

/**
 * A model file that is not a well-formed GGUF v2/v3 file: bad magic, unsupported version,
 * truncation, out-of-range offsets or counts, a tensor type we cannot size, or a hash/size that
 * differs from its manifest. Files from peers or disk are untrusted until `readGguf` (and, for
 * admitted models, `verifyManifest`) accept them.
 */
export class CorruptModelError extends CommonsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('corrupt_model', message, { status: 422, cause: options.cause })
  }
}

/** No model in the store (or no manifest) matches the given name or sha256. */
export class ModelNotFoundError extends CommonsError {
  constructor(model: string) {
    super('model_not_found', `model '${model}' not found`, { status: 404, param: 'model' })
  }
}

/** A value given to the GGUF writer or tokenizer that cannot be represented (e.g. bad shape). */
export class InvalidModelSpecError extends CommonsError {
  constructor(message: string, param: string | null = null) {
    super('invalid_model_spec', message, { status: 400, param })
  }
}

/** A manifest file that does not match the manifest schema. */
export class InvalidManifestError extends CommonsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('invalid_manifest', message, { status: 422, cause: options.cause })
  }
}
