/**
 * A witness's signed epoch set: "at the end of `epoch` I hold these valid new entries" (DESIGN.md
 * "Finality"). The consensus layer (`consensus/`) builds batches from ≥ k of these; the ledger
 * defines the format because two different sets signed by one witness for one epoch are a fork
 * proof (`fork-proof.ts`), publishable as a log entry.
 *
 * The signature covers the set's HEADER, where the entries are replaced by their digest
 * (SHA-256 of the ascending raw 32-byte hashes, concatenated). So two sets can be shown to
 * conflict by their headers alone, a few hundred bytes however many entries an epoch holds,
 * and a fork proof always fits in a log entry (two full sets of a busy epoch would not).
 * The message is domain-separated, so it can never be confused with an entry or a checkpoint
 * signature by the same key: "commons/epoch-set/v2\n" || RFC 8785 form of the header without `sig`.
 */
import { z } from 'zod'
import { bytesToHex, canonicalJson, hexToBytes, sha256Hex, sign, verify, type KeyPair } from '../identity/index.js'
import { Hex32, Hex64, Uint } from './schemas.js'

const DOMAIN = 'commons/epoch-set/v2\n'

/**
 * Most entries one set may hold. A set travels in one gossipsub message, and so does a proposal,
 * whose batch lists fewer than 1.5 sets' worth of entries (it names the evidence by headers):
 * 15,000 hex hashes are about 1 MiB of JSON, a batch at most ~1.5 MiB, under gossipsub's 4 MiB
 * frame, which binds sender and receiver alike. (A reply to IWANT bundling messages past it is not
 * sent at all; the witnesses' regossip re-publishes each message on its own.) Entries past the cap
 * wait for the next epoch.
 */
export const MAX_EPOCH_SET_ENTRIES = 15_000

const setFields = {
  v: z.literal(2),
  type: z.literal('epoch-set'),
  network: Hex32,
  epoch: Uint,
  witness: Hex32,
}

/** Wire schema of a signed epoch set. `entries` are entry hashes, sorted, unique. */
export const SignedEpochSetSchema = z.strictObject({ ...setFields, entries: z.array(Hex32).max(MAX_EPOCH_SET_ENTRIES), sig: Hex64 })

/** A signed set's header: the signed statement itself, with the entries as their `digest`. */
export const EpochSetHeaderSchema = z.strictObject({ ...setFields, digest: Hex32, sig: Hex64 })

/** A witness's signed set of entry hashes for one epoch. */
export type SignedEpochSet = z.infer<typeof SignedEpochSetSchema>

/** What a witness's epoch-set signature covers, on its own: enough to prove two sets differ. */
export type EpochSetHeader = z.infer<typeof EpochSetHeaderSchema>

/** SHA-256 (hex) of the ascending raw 32-byte entry hashes of a set, concatenated. */
export function epochSetDigest(entries: readonly string[]): string {
  return sha256Hex(hexToBytes(entries.join('')))
}

function signingBytes(header: Omit<EpochSetHeader, 'sig'>): Uint8Array {
  return new TextEncoder().encode(DOMAIN + canonicalJson(header))
}

/** The header of a set (its entries replaced by their digest), carrying the set's signature. */
export function epochSetHeader(set: SignedEpochSet): EpochSetHeader {
  return { v: set.v, type: set.type, network: set.network, epoch: set.epoch, witness: set.witness, digest: epochSetDigest(set.entries), sig: set.sig }
}

/**
 * Signs the set of `entries` (hex entry hashes; sorted and de-duplicated here) for `epoch`.
 * @throws RangeError past {@link MAX_EPOCH_SET_ENTRIES} distinct entries (the caller chooses which wait)
 */
export function signEpochSet(network: string, epoch: number, entries: readonly string[], key: KeyPair): SignedEpochSet {
  const sorted = [...new Set(entries)].sort()
  if (sorted.length > MAX_EPOCH_SET_ENTRIES) throw new RangeError(`an epoch set holds at most ${MAX_EPOCH_SET_ENTRIES} entries, not ${sorted.length}`)
  const fields = { v: 2 as const, type: 'epoch-set' as const, network, epoch, witness: bytesToHex(key.publicKey) }
  const sig = bytesToHex(sign(signingBytes({ ...fields, digest: epochSetDigest(sorted) }), key.secretKey))
  return { ...fields, entries: sorted, sig }
}

/** True iff `value` is a well-formed header whose signature verifies. */
export function verifyEpochSetHeader(value: unknown): value is EpochSetHeader {
  const parsed = EpochSetHeaderSchema.safeParse(value)
  if (!parsed.success) return false
  const { sig, ...unsigned } = parsed.data
  return verify(hexToBytes(sig), signingBytes(unsigned), hexToBytes(unsigned.witness))
}

/** True iff `value` is a well-formed epoch set (sorted unique entries) whose signature verifies. */
export function verifyEpochSet(value: unknown): value is SignedEpochSet {
  const parsed = SignedEpochSetSchema.safeParse(value)
  if (!parsed.success) return false
  const { entries } = parsed.data
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1]! < entries[i]!)) return false
  return verifyEpochSetHeader(epochSetHeader(parsed.data))
}
