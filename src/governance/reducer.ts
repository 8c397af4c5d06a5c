import { advanceTo } from './clock.js'
import { GOV_BODY_SCHEMAS, isGovKind } from './bodies.js'
import type { DelegateBody, ProposeBody, VoteBody, VouchBody } from './bodies.js'
import { OutOfOrderEntryError } from './errors.js'
import { applyDelegate, applyLeave, applyVouch } from './membership.js'
import { applyPropose, applyVote } from './proposals.js'
import { Rejected, reject, type RejectionReason } from './rejections.js'
import { markSeq } from './seqs.js'
import type { FinalEntry, GovState } from './types.js'

/**
 * The governance reducer: applies one final log entry to the state and returns the state.
 *
 * Pure in the sense the network needs: no I/O, no clock, no randomness, and the result depends
 * only on the state and the entry, so every node that replays the same final log reaches the same
 * state byte for byte. For speed (a replay applies millions of entries) it UPDATES `state` IN
 * PLACE and returns it: callers that keep an older version copy it first with `cloneState`.
 *
 * Steps, for every final entry in log order:
 *  1. the clock moves to the entry's final checkpoint time, running any transitions that fell due
 *     (votes opening and closing, tallies, executions at epoch starts);
 *  2. the entry's (author, seq) is marked used (`state.seqs`); entries of other kinds (ledger
 *     notes, receipts, evidence) stop there;
 *  3. a governance entry is checked (network, replay guard, body schema, the rules of its kind) and
 *     applied, or, if any check fails, leaves the state as it was except for a record
 *     `{ index, kind, author, reason, detail }` appended to `state.rejections` (and its seq mark).
 *
 * Signatures and seq uniqueness are the ledger's to verify before an entry can become final
 * (`decodeEntry` in `src/ledger/entry.ts`, the log store); the reducer still refuses an
 * (author, seq) it has already seen, so a replayed governance entry cannot count twice even if it
 * reached the final log. An epoch's entries are ordered by hash, not seq, so where an author's
 * later word must win (vote changes, delegation changes) the reducer compares seqs, not log order.
 *
 * Throws `OutOfOrderEntryError` if `fe.index` is not greater than the last applied index: that is a
 * bug in the caller, not data to record.
 */
export function applyEntry(state: GovState, fe: FinalEntry): GovState {
  if (!Number.isSafeInteger(fe.index) || fe.index <= state.lastIndex) throw new OutOfOrderEntryError(fe.index, state.lastIndex)
  state.lastIndex = fe.index
  advanceTo(state, fe.time)
  const { entry } = fe
  if (entry.network !== state.network) {
    if (isGovKind(entry.kind)) record(state, fe, 'wrong_network', `entry of network ${entry.network}`)
    return state
  }
  if (!Number.isSafeInteger(entry.seq) || entry.seq < 1) {
    if (isGovKind(entry.kind)) record(state, fe, 'bad_body', `seq ${entry.seq} is not a positive integer`)
    return state
  }
  // Every final entry spends its (author, seq), governance kind or not, accepted or refused: a
  // refused vote replayed later, when it might pass the checks, must still count as a replay.
  const fresh = markSeq((state.seqs[entry.author] ??= []), entry.seq)
  if (!isGovKind(entry.kind)) return state
  try {
    if (!fresh) reject('replayed_seq', `seq ${entry.seq} of ${entry.author} is already in the log`)
    const parsed = GOV_BODY_SCHEMAS[entry.kind].safeParse(entry.body)
    if (!parsed.success) reject('bad_body', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
    switch (entry.kind) {
      case 'member-vouch':
        applyVouch(state, fe, parsed.data as VouchBody)
        break
      case 'member-leave':
        applyLeave(state, fe)
        break
      case 'delegate':
        applyDelegate(state, fe, parsed.data as DelegateBody)
        break
      case 'propose':
        applyPropose(state, fe, parsed.data as ProposeBody)
        break
      case 'vote':
        applyVote(state, fe, parsed.data as VoteBody)
        break
    }
  } catch (err) {
    if (!(err instanceof Rejected)) throw err
    record(state, fe, err.reason, err.detail)
  }
  return state
}

function record(state: GovState, fe: FinalEntry, reason: RejectionReason, detail: string): void {
  state.rejections.push({ index: fe.index, kind: fe.entry.kind, author: fe.entry.author, reason, detail })
}

/** Replays final entries in order onto `state` (which it updates and returns). */
export function applyEntries(state: GovState, entries: Iterable<FinalEntry>): GovState {
  for (const fe of entries) applyEntry(state, fe)
  return state
}

/**
 * Moves the clock to a final checkpoint's time when no entry came with it, so deadlines pass and
 * decisions execute on an idle log. Same guarantees as `applyEntry`'s step 1.
 */
export function applyCheckpointTime(state: GovState, time: number): GovState {
  advanceTo(state, time)
  return state
}
