import { z } from 'zod'

/**
 * Bodies of the governance entry kinds. Every body is validated again by the reducer (a final
 * entry is still data from the network: the schema is the boundary), so a body that slipped past
 * a lenient writer is rejected with reason `bad_body` rather than trusted.
 */

const NodeId = z.string().regex(/^[0-9a-f]{64}$/, 'a node id is 64 lowercase hex characters (raw Ed25519 public key)')
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex characters')

/**
 * The part of a model manifest governance needs: what the file is (sha256), under which license,
 * and where it came from. Other provenance fields (training data, code commit, evaluations) are
 * kept verbatim so `/v1/models` can show them.
 */
export const ModelManifestSchema = z
  .object({
    name: z.string().min(1).max(200),
    sha256: Sha256,
    license: z.string().min(1).max(200),
  })
  .passthrough()
export type ModelManifest = z.infer<typeof ModelManifestSchema>

/** Entry kinds the governance reducer consumes; every other kind only advances its clock. */
export const GOV_KINDS = ['member-vouch', 'member-leave', 'delegate', 'propose', 'vote'] as const
export type GovKind = (typeof GOV_KINDS)[number]

export function isGovKind(kind: string): kind is GovKind {
  return (GOV_KINDS as readonly string[]).includes(kind)
}

export const VouchBodySchema = z.strictObject({ candidate: NodeId })
export const LeaveBodySchema = z.strictObject({})
/** `to: null` revokes the author's delegation. */
export const DelegateBodySchema = z.strictObject({ to: NodeId.nullable() })

export const ProposalActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('admit-model'), manifest: ModelManifestSchema }),
  z.strictObject({ type: z.literal('retire-model'), sha256: Sha256, reason: z.string().max(2000).default('') }),
  z.strictObject({ type: z.literal('set-parameter'), name: z.string().min(1).max(64), value: z.number() }),
  z.strictObject({
    type: z.literal('set-witnesses'),
    witnesses: z.array(NodeId).min(1).max(64),
    threshold: z.number().int().min(1),
  }),
  z.strictObject({ type: z.literal('amend-constitution'), text: z.string().min(1).max(32_768) }),
  z.strictObject({ type: z.literal('expel-member'), member: NodeId, reason: z.string().max(2000).default('') }),
])
export type ProposalAction = z.infer<typeof ProposalActionSchema>
export type ProposalType = ProposalAction['type']

export const ProposeBodySchema = z.strictObject({
  title: z.string().min(1).max(200),
  rationale: z.string().max(8000).default(''),
  action: ProposalActionSchema,
})

export const VOTE_CHOICES = ['yes', 'no', 'abstain'] as const
export type VoteChoice = (typeof VOTE_CHOICES)[number]

/** `proposal` is the proposal's id: the log index of its `propose` entry. */
export const VoteBodySchema = z.strictObject({
  proposal: z.number().int().min(0),
  choice: z.enum(VOTE_CHOICES),
})

/** Body schema of each governance kind (what `src/ledger/kinds.ts` registers). */
export const GOV_BODY_SCHEMAS = {
  'member-vouch': VouchBodySchema,
  'member-leave': LeaveBodySchema,
  delegate: DelegateBodySchema,
  propose: ProposeBodySchema,
  vote: VoteBodySchema,
} as const satisfies Record<GovKind, z.ZodType>

export type VouchBody = z.infer<typeof VouchBodySchema>
export type DelegateBody = z.infer<typeof DelegateBodySchema>
export type ProposeBody = z.infer<typeof ProposeBodySchema>
export type VoteBody = z.infer<typeof VoteBodySchema>
