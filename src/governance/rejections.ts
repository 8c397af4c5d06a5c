/**
 * Why the reducer refused an entry. A refused entry changes nothing but the record
 * `{ index, kind, author, reason, detail }` appended to `state.rejections`, so anyone can audit
 * why a vote or a vouch did not count, and every node records the same reasons.
 */
export type RejectionReason =
  | 'wrong_network'
  | 'replayed_seq'
  | 'bad_body'
  | 'not_a_member'
  | 'self_vouch'
  | 'already_member'
  | 'candidate_expelled'
  | 'duplicate_vouch'
  | 'vouch_probation'
  | 'vouch_penalty'
  | 'vouch_rate_limited'
  | 'last_member'
  | 'delegate_not_member'
  | 'self_delegation'
  | 'delegation_chain'
  | 'delegate_cap'
  | 'too_many_open_proposals'
  | 'bad_action'
  | 'unknown_proposal'
  | 'voting_not_open'
  | 'voting_closed'
  | 'not_in_electorate'
  | 'superseded'

/**
 * Thrown by validation inside the reducer before any mutation; caught by `applyEntry`. Not an
 * `Error`: capturing a stack trace for every refused entry would dominate replay time of a log
 * full of spam, and this never escapes the reducer.
 */
export class Rejected {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {}
}

export function reject(reason: RejectionReason, detail: string): never {
  throw new Rejected(reason, detail)
}
