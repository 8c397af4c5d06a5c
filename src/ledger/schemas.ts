/** Small zod building blocks shared by the ledger's schemas. */
import { z } from 'zod'

/** Lowercase hex of exactly 32 bytes (hashes, node ids, network ids). */
export const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')

/** Lowercase hex of exactly 64 bytes (Ed25519 signatures). */
export const Hex64 = z.string().regex(/^[0-9a-f]{128}$/, 'expected 128 lowercase hex characters')

/** A non-negative safe integer (sizes, times, epochs). */
export const Uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
