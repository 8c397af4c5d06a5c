import { z } from 'zod'
import { bytesToHex, canonicalBytes, hexToBytes, sign, verify, type KeyPair } from '../../identity/index.js'

/**
 * A witness's signed epoch set: at the end of epoch `epoch`, the hashes of the valid entries it
 * holds that are not yet final, sorted and without duplicates (DESIGN.md "Finality"). Proposers
 * carry ≥ k of them as the evidence of a batch (`batch.ts`). Two different sets signed by one
 * witness for one epoch are a fork proof (`fork-proof.ts`).
 * A set from a peer is untrusted until `verifyEpochSet` accepts it.
 */

export const EPOCH_SET_DOMAIN = 'commons/epoch-set/v1'

/** Upper bound on entries in one epoch set (bounds the size of a proposal on the wire). */
export const MAX_EPOCH_SET_ENTRIES = 20_000

export interface EpochSet {
  readonly network: string
  readonly epoch: number
  /** Hex raw Ed25519 public key of the signing witness. */
  readonly witness: string
  /** Hex sha256 entry hashes, strictly ascending. */
  readonly entries: readonly string[]
  readonly sig: string
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)

export const EpochSetSchema: z.ZodType<EpochSet> = z.strictObject({
  network: z.string().max(128),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  witness: hex32,
  entries: z.array(hex32).max(MAX_EPOCH_SET_ENTRIES),
  sig: z.string().regex(/^[0-9a-f]{128}$/),
})

function signedBytes(set: Omit<EpochSet, 'sig'>): Uint8Array {
  return canonicalBytes({ domain: EPOCH_SET_DOMAIN, network: set.network, epoch: set.epoch, witness: set.witness, entries: set.entries })
}

/** True when `hashes` is strictly ascending (so sorted and free of duplicates). */
export function isStrictlySorted(hashes: readonly string[]): boolean {
  for (let i = 1; i < hashes.length; i++) if ((hashes[i - 1] as string) >= (hashes[i] as string)) return false
  return true
}

/** Signs the set of entry hashes `entries` (any order, duplicates dropped) for `epoch` as `keys`. */
export function signEpochSet(network: string, epoch: number, entries: Iterable<string>, keys: KeyPair): EpochSet {
  const sorted = [...new Set(entries)].sort()
  const unsigned = { network, epoch, witness: bytesToHex(keys.publicKey), entries: sorted }
  return { ...unsigned, sig: bytesToHex(sign(signedBytes(unsigned), keys.secretKey)) }
}

// A set is checked by every witness each time it arrives inside a proposal's evidence: remember
// verdicts per set object (sets are immutable once built or parsed).
const verdicts = new WeakMap<EpochSet, boolean>()

/** True when the set is well-formed (sorted, bounded) and signed by its `witness`. */
export function verifyEpochSet(set: EpochSet): boolean {
  const cached = verdicts.get(set)
  if (cached !== undefined) return cached
  let ok = false
  if (EpochSetSchema.safeParse(set).success && isStrictlySorted(set.entries)) {
    try {
      ok = verify(hexToBytes(set.sig), signedBytes(set), hexToBytes(set.witness))
    } catch {
      ok = false
    }
  }
  verdicts.set(set, ok)
  return ok
}
