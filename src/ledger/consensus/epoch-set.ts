import {
  MAX_EPOCH_SET_ENTRIES,
  SignedEpochSetSchema,
  epochSetHeader,
  signEpochSet as ledgerSignEpochSet,
  verifyEpochSet as ledgerVerifyEpochSet,
  verifyEpochSetHeader as ledgerVerifyEpochSetHeader,
  type EpochSetHeader,
  type SignedEpochSet,
} from '../epoch-set.js'
import type { KeyPair } from '../../identity/index.js'

/**
 * A witness's signed epoch set: at the end of epoch `epoch`, the hashes of the valid entries it
 * holds that are not yet final, sorted and without duplicates (DESIGN.md "Finality"). The format
 * and signature are the ledger's (`src/ledger/epoch-set.ts`), because two different sets signed by
 * one witness for one epoch are a fork proof publishable in the log; this module adds what
 * consensus needs on top: which entries a full pool signs, verdict and header caches.
 * A set from a peer is untrusted until `verifyEpochSet` accepts it.
 *
 * Sets travel in full once, on their own; a proposal names its evidence by the sets' HEADERS
 * (entries replaced by their digest), so its size does not grow with the number of witnesses.
 */
export type EpochSet = SignedEpochSet
export type { EpochSetHeader }
export { MAX_EPOCH_SET_ENTRIES }

export const EpochSetSchema = SignedEpochSetSchema

/** True when `hashes` is strictly ascending (so sorted and free of duplicates). */
export function isStrictlySorted(hashes: readonly string[]): boolean {
  for (let i = 1; i < hashes.length; i++) if ((hashes[i - 1] as string) >= (hashes[i] as string)) return false
  return true
}

/**
 * Signs the set of entry hashes `entries` (duplicates dropped) for `epoch` as `keys`. Past
 * {@link MAX_EPOCH_SET_ENTRIES} it takes the first ones in iteration order: a witness passes its
 * pending pool oldest first, so what waits is the newest and an entry cannot be starved by later
 * ones (every witness receives them in roughly the same order, so their sets keep overlapping).
 */
export function signEpochSet(network: string, epoch: number, entries: Iterable<string>, keys: KeyPair): EpochSet {
  const chosen = new Set<string>()
  for (const h of entries) {
    if (chosen.size >= MAX_EPOCH_SET_ENTRIES) break
    chosen.add(h)
  }
  return ledgerSignEpochSet(network, epoch, [...chosen], keys)
}

// A set is checked by every witness once when it arrives and its header whenever a proposal names
// it: remember verdicts and headers per object (sets and headers are never mutated once built or parsed).
const verdicts = new WeakMap<object, boolean>()
const headers = new WeakMap<object, EpochSetHeader>()

function memo<K extends object, T>(cache: WeakMap<object, T>, key: K, compute: (key: K) => T): T {
  let value = cache.get(key)
  if (value === undefined) {
    value = compute(key)
    cache.set(key, value)
  }
  return value
}

/** True when the set is well-formed (sorted, unique, within the cap) and signed by its `witness`. */
export function verifyEpochSet(set: EpochSet): boolean {
  return memo(verdicts, set, ledgerVerifyEpochSet)
}

/** True when the header is well-formed and its signature (the set's) verifies. */
export function verifyEpochSetHeader(header: EpochSetHeader): boolean {
  return memo(verdicts, header, ledgerVerifyEpochSetHeader)
}

/** The header of a set (entries replaced by their digest), computed once per set object. */
export function headerOf(set: EpochSet): EpochSetHeader {
  return memo(headers, set, epochSetHeader)
}
