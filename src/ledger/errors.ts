/**
 * Typed errors of the ledger layer. Callers branch on `code`; `index` (where given) is the
 * 0-based log index of the offending entry or the size of the offending checkpoint.
 */
import { CommonsError } from '../errors.js'

/** The entry's Ed25519 signature does not verify against its author key. */
export class ForgedSignatureError extends CommonsError {
  constructor(detail = 'entry signature does not verify against its author') {
    super('forged_signature', detail, { status: 400, param: 'sig' })
  }
}

/** The author already used this `seq`: the entry is a replay (or a duplicate). */
export class ReplayedSeqError extends CommonsError {
  constructor(author: string, seq: number) {
    super('replayed_seq', `author ${author.slice(0, 16)}… already used seq ${seq}`, { status: 409, param: 'seq' })
  }
}

/** The entry names another network (its genesis hash differs from ours). */
export class WrongNetworkError extends CommonsError {
  constructor(expected: string, got: string) {
    super('wrong_network', `entry is for network ${got.slice(0, 16)}…, this log is ${expected.slice(0, 16)}…`, {
      status: 400,
      param: 'network',
    })
  }
}

/** The canonical entry exceeds the size limit. */
export class OversizedEntryError extends CommonsError {
  constructor(size: number, max: number) {
    super('entry_too_large', `entry is ${size} bytes, the limit is ${max}`, { status: 413 })
  }
}

/** The entry's `kind` is not in the registry (`kinds.ts`). */
export class UnknownKindError extends CommonsError {
  constructor(kind: string) {
    super('unknown_kind', `unknown entry kind '${kind.slice(0, 64)}'`, { status: 400, param: 'kind' })
  }
}

/** The entry (envelope or body) does not match its schema, or is not canonical JSON. */
export class BadEntrySchemaError extends CommonsError {
  constructor(detail: string, param: string | null = null) {
    super('bad_entry_schema', `invalid entry: ${detail}`, { status: 400, param })
  }
}

/** A genesis file is malformed or violates its rules (e.g. threshold k ≤ 2n/3). */
export class BadGenesisError extends CommonsError {
  constructor(detail: string) {
    super('bad_genesis', `invalid genesis: ${detail}`, { status: 400 })
  }
}

/** A checkpoint (signed note) is malformed, or is for another log. */
export class BadCheckpointError extends CommonsError {
  constructor(detail: string) {
    super('bad_checkpoint', `invalid checkpoint: ${detail}`, { status: 400 })
  }
}

/** A checkpoint lacks k valid witness cosignatures. */
export class NotFinalError extends CommonsError {
  constructor(size: number, got: number, need: number) {
    super('checkpoint_not_final', `checkpoint of size ${size} has ${got} valid witness cosignatures, needs ${need}`, {
      status: 400,
    })
  }
}

/** The stored log disagrees with itself (tree vs entries vs final checkpoint): refuse to serve it. */
export class LogCorruptError extends CommonsError {
  readonly index: number
  constructor(index: number, detail: string) {
    super('log_corrupt', `log is corrupt at index ${index}: ${detail}`, { status: 500 })
    this.index = index
  }
}

/** A proof offered by a peer (or a stored one) does not verify. */
export class BadProofError extends CommonsError {
  constructor(detail: string) {
    super('bad_proof', `proof does not verify: ${detail}`, { status: 400 })
  }
}

/** A log sync with a peer failed (protocol violation, untrusted data rejected, or transport). */
export class SyncError extends CommonsError {
  constructor(detail: string, cause?: unknown) {
    super('sync_failed', `log sync failed: ${detail}`, { status: 502, cause })
  }
}
