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
import { SignedStatementSchema } from './consensus/messages.js'
import { EpochSetHeaderSchema } from './epoch-set.js'
import { Hex32, Uint } from './schemas.js'

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
    /** The headers (signed digests) of two sets of `witness` for one epoch and network. */
    a: EpochSetHeaderSchema,
    b: EpochSetHeaderSchema,
  }),
  z.strictObject({
    type: z.literal('vote'),
    witness: Hex32,
    /** Two consensus messages of `witness` for one height, round and type that conflict (proposals as headers). */
    a: SignedStatementSchema,
    b: SignedStatementSchema,
  }),
])

const LEDGER_KINDS = {
  note: NoteBody,
  'fork-proof': ForkProofBody,
} as const

// ─────────────── GOVERNANCE kinds (owned by the governance engineer: add yours here) ───────────────
// One line per kind: `'member-vouch': MemberVouchBody,` etc. Keep body schemas strict.
// Meaning and rules of each kind: src/governance (the reducer validates bodies again).

/**
 * A model manifest (`src/models/manifest.ts`), checked here only for the fields every reader
 * needs (name, license, file hash); all other fields are kept verbatim. The governance reducer
 * checks the whole manifest schema when the proposal is made (refusing an incomplete provenance).
 */
export const GovModelManifest = z
  .object({
    name: z.string().min(1).max(200),
    license: z.string().min(1).max(200),
    file: z.object({ sha256: Hex32 }).passthrough(),
  })
  .passthrough()

/** An active member vouches for a candidate's admission. */
export const MemberVouchBody = z.strictObject({ candidate: Hex32 })
/** The author leaves the membership. */
export const MemberLeaveBody = z.strictObject({})
/** The author delegates its vote to a member (`to: null` revokes). */
export const DelegateBody = z.strictObject({ to: Hex32.nullable() })
/** What a proposal would do, by type. */
export const ProposalActionBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('admit-model'), manifest: GovModelManifest }),
  z.strictObject({ type: z.literal('retire-model'), sha256: Hex32, reason: z.string().max(2000).default('') }),
  z.strictObject({ type: z.literal('set-parameter'), name: z.string().min(1).max(64), value: z.number() }),
  z.strictObject({ type: z.literal('set-witnesses'), witnesses: z.array(Hex32).min(1).max(64), threshold: z.number().int().min(1) }),
  z.strictObject({ type: z.literal('amend-constitution'), text: z.string().min(1).max(32_768) }),
  z.strictObject({ type: z.literal('expel-member'), member: Hex32, reason: z.string().max(2000).default('') }),
])
/** A member opens a proposal; its id is the log index of this entry. */
export const ProposeBody = z.strictObject({
  title: z.string().min(1).max(200),
  rationale: z.string().max(8000).default(''),
  action: ProposalActionBody,
})
/** A member votes on a proposal (by id = log index of its `propose` entry); a later seq replaces it. */
export const VoteBody = z.strictObject({ proposal: Uint, choice: z.enum(['yes', 'no', 'abstain']) })

const GOVERNANCE_KINDS = {
  'member-vouch': MemberVouchBody,
  'member-leave': MemberLeaveBody,
  delegate: DelegateBody,
  propose: ProposeBody,
  vote: VoteBody,
} as const

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
