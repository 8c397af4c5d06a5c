import { z } from 'zod'
import { bytesToHex, canonicalBytes, hexToBytes, sign, verify, type KeyPair } from '../identity/index.js'

/**
 * A worker's signed capability record: soft state gossiped every few seconds (DESIGN.md: load,
 * latency and queue depth are never trusted for anything that matters). The signature binds the
 * record to the worker's key, so a relay cannot alter another worker's advertised load, and the
 * timestamp bounds how long a captured record can be replayed.
 */

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)

/** Signing domain, so a capability signature can never be replayed as another kind of signed object. */
export const CAPABILITY_DOMAIN = 'commons/capability/1'

export const CapabilityModelSchema = z.strictObject({
  sha256: hex64,
  name: z.string().min(1).max(128),
  contextSize: z.number().int().positive().max(10_000_000),
})

export const CapabilityRecordSchema = z.strictObject({
  /** Hex Ed25519 public key of the worker (its node id). */
  nodeId: hex64,
  /** Multiaddrs the worker can be dialed on (with `/p2p/<peer id>`). */
  addrs: z.array(z.string().max(256)).max(16),
  models: z.array(CapabilityModelSchema).max(64),
  freeSlots: z.number().int().min(0).max(1_000_000),
  parallel: z.number().int().min(0).max(1_000_000),
  queueDepth: z.number().int().min(0).max(1_000_000),
  /** Measured decode speed over recent jobs (0 until measured). */
  tokensPerSecond: z.number().min(0).max(1e7),
  version: z.string().max(64),
  /** Milliseconds since the epoch when the worker signed the record. */
  timestamp: z.number().int().nonnegative(),
})

export type CapabilityModel = z.infer<typeof CapabilityModelSchema>
export type CapabilityRecord = z.infer<typeof CapabilityRecordSchema>

export const SignedCapabilitySchema = z.strictObject({
  record: CapabilityRecordSchema,
  signature: z.string().regex(/^[0-9a-f]{128}$/),
})

export type SignedCapability = z.infer<typeof SignedCapabilitySchema>

function signingBytes(record: CapabilityRecord): Uint8Array {
  return canonicalBytes({ domain: CAPABILITY_DOMAIN, record })
}

/** Signs `record` with the worker's key (Ed25519 over RFC 8785 canonical JSON). */
export function signCapability(record: CapabilityRecord, keyPair: KeyPair): SignedCapability {
  return { record, signature: bytesToHex(sign(signingBytes(record), keyPair.secretKey)) }
}

/** True when the signature is the record's `nodeId` key's over the record. */
export function verifyCapability(signed: SignedCapability): boolean {
  return verify(hexToBytes(signed.signature), signingBytes(signed.record), hexToBytes(signed.record.nodeId))
}
