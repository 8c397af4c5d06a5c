/**
 * A witness's signed epoch set: "at the end of `epoch` I hold these valid new entries" (DESIGN.md
 * "Finality"). The consensus layer (`consensus/`) builds batches from ≥ k of these; the ledger
 * defines the format because two different sets signed by one witness for one epoch are a fork
 * proof (`fork-proof.ts`), publishable as a log entry.
 *
 * The signature covers a domain-separated message, so it can never be confused with an entry or
 * a checkpoint signature by the same key: "commons/epoch-set/v1\n" || RFC 8785 form without `sig`.
 */
import { z } from 'zod'
import { bytesToHex, canonicalJson, hexToBytes, sign, verify, type KeyPair } from '../identity/index.js'
import { Hex32, Hex64, Uint } from './schemas.js'

const DOMAIN = 'commons/epoch-set/v1\n'

/** Wire/storage schema of a signed epoch set. `entries` are entry hashes, sorted, unique. */
export const SignedEpochSetSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('epoch-set'),
  network: Hex32,
  epoch: Uint,
  witness: Hex32,
  entries: z.array(Hex32).max(1_000_000),
  sig: Hex64,
})

/** A witness's signed set of entry hashes for one epoch. */
export type SignedEpochSet = z.infer<typeof SignedEpochSetSchema>

function signingBytes(set: Omit<SignedEpochSet, 'sig'>): Uint8Array {
  return new TextEncoder().encode(DOMAIN + canonicalJson(set))
}

/** Signs the set of `entries` (hex entry hashes; sorted and de-duplicated here) for `epoch`. */
export function signEpochSet(network: string, epoch: number, entries: readonly string[], key: KeyPair): SignedEpochSet {
  const unsigned = {
    v: 1 as const,
    type: 'epoch-set' as const,
    network,
    epoch,
    witness: bytesToHex(key.publicKey),
    entries: [...new Set(entries)].sort(),
  }
  return { ...unsigned, sig: bytesToHex(sign(signingBytes(unsigned), key.secretKey)) }
}

/** True iff `value` is a well-formed epoch set (sorted unique entries) whose signature verifies. */
export function verifyEpochSet(value: unknown): value is SignedEpochSet {
  const parsed = SignedEpochSetSchema.safeParse(value)
  if (!parsed.success) return false
  const { sig, ...unsigned } = parsed.data
  for (let i = 1; i < unsigned.entries.length; i++) if (!(unsigned.entries[i - 1]! < unsigned.entries[i]!)) return false
  return verify(hexToBytes(sig), signingBytes(unsigned), hexToBytes(unsigned.witness))
}
