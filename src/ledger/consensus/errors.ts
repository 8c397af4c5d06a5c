import { CommonsError } from '../../errors.js'

/** A consensus message, epoch set, batch or fork proof from a peer that failed validation. */
export class InvalidConsensusMessageError extends CommonsError {
  constructor(message: string, cause?: unknown) {
    super('invalid_consensus_message', message, { status: 400, cause })
  }
}

/** The witness configuration (n, k, keys) cannot give Byzantine fault tolerance. */
export class InvalidWitnessSetError extends CommonsError {
  constructor(message: string) {
    super('invalid_witness_set', message, { status: 400 })
  }
}

/** A fork proof whose two statements are not both validly signed, or do not conflict. */
export class InvalidForkProofError extends CommonsError {
  constructor(message: string) {
    super('invalid_fork_proof', message, { status: 400 })
  }
}
