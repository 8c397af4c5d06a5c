import { CommonsError } from '../errors.js'

/** A multiaddr given on the command line or in config that does not parse. */
export class InvalidMultiaddrError extends CommonsError {
  constructor(addr: string, cause?: unknown) {
    super('invalid_multiaddr', `invalid multiaddr '${addr}'`, { status: 400, cause })
  }
}

/** A peer sent a frame that is not valid JSON, fails its schema, or exceeds the frame limit. */
export class MalformedFrameError extends CommonsError {
  constructor(message: string, cause?: unknown) {
    super('malformed_frame', message, { status: 502, cause })
  }
}

/** A worker's receipt whose signature, signer or contents do not match the job. */
export class InvalidReceiptError extends CommonsError {
  constructor(message: string) {
    super('invalid_receipt', message, { status: 502 })
  }
}

/** A remote worker failed the job (its error code and message are carried through). */
export class RemoteJobError extends CommonsError {
  readonly remoteCode: string
  constructor(remoteCode: string, message: string, status: number) {
    super(remoteCode, message, { status })
    this.remoteCode = remoteCode
  }
}

/** The worker's stream ended, reset or went silent before the job finished. */
export class WorkerLostError extends CommonsError {
  constructor(message: string, cause?: unknown) {
    super('worker_lost', message, { status: 502, cause })
  }
}
