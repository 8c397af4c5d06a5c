/**
 * The registry of entry kinds: `kind` → zod schema of its `body`. An entry whose kind is not here,
 * or whose body fails its schema, is rejected (`UnknownKindError` / `BadEntrySchemaError`).
 *
 * Shared file: the ledger owns the LEDGER section; the governance engineer owns the GOVERNANCE
 * section below (member-vouch, propose, vote, delegate, …). Body schemas must be strict objects
 * (unknown fields rejected): the signature covers the body as sent, so nothing may be silently
 * stripped.
 */
import { z } from 'zod'
import { SignedEpochSetSchema } from './epoch-set.js'
import { Hex32 } from './schemas.js'

// ───────────────────────────── LEDGER kinds (owned by the ledger) ─────────────────────────────

/** Free text; used by tests and for operator notices. */
export const NoteBody = z.strictObject({ text: z.string().max(16_384) })

/** Evidence that a witness signed two conflicting statements (see `fork-proof.ts`). */
export const ForkProofBody = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('checkpoint'),
    witness: Hex32,
    /** Two C2SP checkpoints (signed notes) cosigned by `witness`, same origin, conflicting. */
    a: z.string().max(16_384),
    b: z.string().max(16_384),
  }),
  z.strictObject({
    type: z.literal('epoch-set'),
    witness: Hex32,
    a: SignedEpochSetSchema,
    b: SignedEpochSetSchema,
  }),
])

const LEDGER_KINDS = {
  note: NoteBody,
  'fork-proof': ForkProofBody,
} as const

// ─────────────── GOVERNANCE kinds (owned by the governance engineer: add yours here) ───────────────
// One line per kind: `'member-vouch': MemberVouchBody,` etc. Keep body schemas strict.

const GOVERNANCE_KINDS = {} as const

// ─────────────────────────────────────── end of sections ───────────────────────────────────────

/** Every known kind and its body schema. */
export const KINDS = { ...LEDGER_KINDS, ...GOVERNANCE_KINDS } satisfies Record<string, z.ZodType>

/** A known entry kind. */
export type Kind = keyof typeof KINDS

/** The parsed body type of kind `K`. */
export type BodyOf<K extends Kind> = z.infer<(typeof KINDS)[K]>

/** True iff `kind` is registered. */
export function isKnownKind(kind: string): kind is Kind {
  return Object.hasOwn(KINDS, kind)
}

/** The body schema of `kind`, or undefined for an unknown kind. */
export function bodySchemaOf(kind: string): z.ZodType | undefined {
  return isKnownKind(kind) ? KINDS[kind] : undefined
}
