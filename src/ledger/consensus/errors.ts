import { CommonsError } from '../../errors.js'

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
