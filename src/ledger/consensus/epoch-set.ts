import { SignedEpochSetSchema, signEpochSet as ledgerSignEpochSet, verifyEpochSet as ledgerVerifyEpochSet, type SignedEpochSet } from '../epoch-set.js'
import type { KeyPair } from '../../identity/index.js'

/**
 * A witness's signed epoch set: at the end of epoch `epoch`, the hashes of the valid entries it
 * holds that are not yet final, sorted and without duplicates (DESIGN.md "Finality"). The format
 * and signature are the ledger's (`src/ledger/epoch-set.ts`), because two different sets signed by
 * one witness for one epoch are a fork proof publishable in the log; this module adds what
 * consensus needs on top: a verdict cache and ordering helpers.
 * A set from a peer is untrusted until `verifyEpochSet` accepts it.
 */
export type EpochSet = SignedEpochSet

export const EpochSetSchema = SignedEpochSetSchema

/** True when `hashes` is strictly ascending (so sorted and free of duplicates). */
export function isStrictlySorted(hashes: readonly string[]): boolean {
  for (let i = 1; i < hashes.length; i++) if ((hashes[i - 1] as string) >= (hashes[i] as string)) return false
  return true
}

/** Signs the set of entry hashes `entries` (any order, duplicates dropped) for `epoch` as `keys`. */
export function signEpochSet(network: string, epoch: number, entries: Iterable<string>, keys: KeyPair): EpochSet {
  return ledgerSignEpochSet(network, epoch, [...entries], keys)
}

// A set is checked by every witness each time it arrives inside a proposal's evidence: remember
// verdicts per set object (sets are never mutated once built or parsed).
const verdicts = new WeakMap<EpochSet, boolean>()

/** True when the set is well-formed (sorted, unique) and signed by its `witness`. */
export function verifyEpochSet(set: EpochSet): boolean {
  let ok = verdicts.get(set)
  if (ok === undefined) {
    ok = ledgerVerifyEpochSet(set)
    verdicts.set(set, ok)
  }
  return ok
}
