import type { z } from 'zod'
import {
  DelegateBody,
  GovModelManifest,
  MemberLeaveBody,
  MemberVouchBody,
  ProposalActionBody,
  ProposeBody,
  VoteBody,
} from '../ledger/kinds.js'

/**
 * Bodies of the governance entry kinds. The schemas live in the governance section of
 * `src/ledger/kinds.ts` (the ledger validates every entry against its kind before it can be final;
 * the ledger sits below governance, so the schemas must too). The reducer validates each body
 * again: a final entry is still data from the network, and a body that slipped past a lenient
 * writer is rejected with reason `bad_body` rather than trusted.
 */

export const ModelManifestSchema = GovModelManifest
export type ModelManifest = z.infer<typeof GovModelManifest>

/** Entry kinds the governance reducer consumes; every other kind only advances its clock. */
export const GOV_KINDS = ['member-vouch', 'member-leave', 'delegate', 'propose', 'vote'] as const
export type GovKind = (typeof GOV_KINDS)[number]

export function isGovKind(kind: string): kind is GovKind {
  return (GOV_KINDS as readonly string[]).includes(kind)
}

export const ProposalActionSchema = ProposalActionBody
export type ProposalAction = z.infer<typeof ProposalActionBody>
export type ProposalType = ProposalAction['type']

export const VOTE_CHOICES = ['yes', 'no', 'abstain'] as const
export type VoteChoice = (typeof VOTE_CHOICES)[number]

/** Body schema of each governance kind. */
export const GOV_BODY_SCHEMAS = {
  'member-vouch': MemberVouchBody,
  'member-leave': MemberLeaveBody,
  delegate: DelegateBody,
  propose: ProposeBody,
  vote: VoteBody,
} as const satisfies Record<GovKind, z.ZodType>

export const VouchBodySchema = MemberVouchBody
export const LeaveBodySchema = MemberLeaveBody
export const DelegateBodySchema = DelegateBody
export const ProposeBodySchema = ProposeBody
export const VoteBodySchema = VoteBody
export type VouchBody = z.infer<typeof MemberVouchBody>
export type DelegateBody = z.infer<typeof DelegateBody>
export type ProposeBody = z.infer<typeof ProposeBody>
export type VoteBody = z.infer<typeof VoteBody>
