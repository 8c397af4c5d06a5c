import { CommonsError } from '../errors.js'

/**
 * No worker in the swarm (this node included) can run the model right now. 503 with a
 * Retry-After hint: workers come and go, so the client may retry; never a hang.
 */
export class NoWorkerError extends CommonsError {
  readonly retryAfterSeconds: number
  constructor(model: string, detail?: string, retryAfterSeconds = 2) {
    super(
      'no_worker_available',
      `No worker in the swarm is serving model '${model}' right now${detail === undefined ? '' : ` (${detail})`}; retry later or choose another model`,
      { status: 503, param: 'model' },
    )
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** Every worker tried for a job failed (died, stalled or misbehaved) before it finished. */
export class JobFailedError extends CommonsError {
  constructor(model: string, attempts: number, cause?: unknown) {
    super('job_failed', `The job for model '${model}' failed on ${attempts} worker(s) in a row; retry later`, { status: 503, cause })
  }
}
