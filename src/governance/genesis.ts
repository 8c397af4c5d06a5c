import { z } from 'zod'
import { GovParamsOverrideSchema } from './params.js'
import { ModelManifestSchema } from './bodies.js'

/**
 * What governance reads from the network's genesis: its members, witnesses, epoch length and
 * creation time, and an optional `governance` section (initial parameters within their hard
 * limits, the constitution text, models admitted from the start).
 */
const NodeId = z.string().regex(/^[0-9a-f]{64}$/)

export const GovernanceGenesisSectionSchema = z.strictObject({
  params: GovParamsOverrideSchema.optional(),
  constitution: z.string().min(1).max(32_768).optional(),
  models: z.array(ModelManifestSchema).max(64).optional(),
})
export type GovernanceGenesisSection = z.infer<typeof GovernanceGenesisSectionSchema>

/** The fields of a genesis that governance depends on (other fields are ignored). */
export const GovGenesisSchema = z.looseObject({
  /** Creation time in ms: epoch 0 starts here. */
  created: z.number().int().min(0),
  members: z.array(NodeId).min(1),
  witnesses: z.array(NodeId).min(1),
  threshold: z.number().int().min(1),
  epochMs: z.number().int().min(1),
  governance: GovernanceGenesisSectionSchema.optional(),
})
export type GovGenesis = z.infer<typeof GovGenesisSchema>
