import { CommonsError } from '../errors.js'

/** A genesis whose governance fields are missing or outside the hard limits. */
export class InvalidGovernanceGenesisError extends CommonsError {
  constructor(message: string, cause?: unknown) {
    super('invalid_genesis', `genesis is not valid for governance: ${message}`, { status: 400, cause })
  }
}

/** A snapshot whose content does not hash to the root stored with it, or of another network. */
export class CorruptSnapshotError extends CommonsError {
  constructor(message: string) {
    super('corrupt_snapshot', `governance snapshot rejected: ${message}`, { status: 500 })
  }
}

/** Final entries must be applied in increasing index order. */
export class OutOfOrderEntryError extends CommonsError {
  constructor(index: number, lastIndex: number) {
    super('out_of_order_entry', `final entry ${index} applied after ${lastIndex}: entries must be applied once, in log order`, {
      status: 500,
    })
  }
}

/** A lookup of something the state does not hold (unknown proposal id, model hash). */
export class GovernanceNotFoundError extends CommonsError {
  constructor(what: string) {
    super('not_found', `${what} not found`, { status: 404 })
  }
}

/**
 * A request names a model file that no genesis listing and no executed `admit-model` proposal
 * admits on this network: the node has the file, but governance does not let it be served.
 */
export class ModelNotAdmittedError extends CommonsError {
  constructor(model: string, sha256: string) {
    super(
      'model_not_admitted',
      `The model \`${model}\` (sha256 ${sha256}) is not admitted by governance on this network, so it is not served; members can admit it with an admit-model proposal`,
      { status: 403, param: 'model' },
    )
  }
}

/** A request names a model that governance admitted and then retired by a proposal. */
export class ModelRetiredError extends CommonsError {
  readonly proposal: number | null
  constructor(model: string, sha256: string, proposal: number | null) {
    super(
      'model_retired',
      `The model \`${model}\` (sha256 ${sha256}) was retired by governance${proposal === null ? '' : ` (proposal ${proposal})`} and is no longer served`,
      { status: 403, param: 'model' },
    )
    this.proposal = proposal
  }
}
