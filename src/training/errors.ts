/** Typed errors of the training layer. */
import { CommonsError } from '../errors.js'

/** The corpus file is missing or does not match its recorded hash. */
export class CorpusError extends CommonsError {
  constructor(message: string) {
    super('corpus_mismatch', message)
  }
}

/** A checkpoint does not belong to this run (config/seed differ) or is corrupt. */
export class CheckpointError extends CommonsError {
  constructor(message: string) {
    super('checkpoint_invalid', message)
  }
}

/** Model weights or config are inconsistent (wrong shapes, missing tensors). */
export class ModelShapeError extends CommonsError {
  constructor(message: string) {
    super('model_shape', message)
  }
}
