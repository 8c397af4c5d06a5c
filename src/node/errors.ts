import { CommonsError } from '../errors.js'

/** The HTTP port is taken by another process. */
export class PortInUseError extends CommonsError {
  constructor(host: string, port: number, cause?: unknown) {
    super('port_in_use', `port ${port} on ${host} is already in use (choose another with --port)`, { status: 500, cause })
  }
}

/** The HTTP server could not bind for another reason (bad host, no permission). */
export class ListenError extends CommonsError {
  constructor(host: string, port: number, reason: string, cause?: unknown) {
    super('listen_failed', `cannot listen on ${host}:${port}: ${reason}`, { status: 500, cause })
  }
}

/** `--model` names neither an existing file nor a local model. */
export class ModelFileNotFoundError extends CommonsError {
  constructor(model: string) {
    super('model_file_not_found', `model '${model}' not found: no such file, and no local model has that name (see 'commons models')`, {
      status: 500,
    })
  }
}

/** A node configuration that does not pass its schema. */
export class InvalidConfigError extends CommonsError {
  constructor(message: string, param: string | null) {
    super('invalid_config', message, { status: 400, param })
  }
}
