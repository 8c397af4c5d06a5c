import { z } from 'zod'
import { paramViolation, type GovParams } from './params.js'
import { modelManifestSchema } from '../models/manifest.js'
import type { ModelManifest } from './bodies.js'

/**
 * What governance reads from the network's genesis (`src/ledger/genesis.ts`): members, witnesses,
 * threshold, epoch length, creation time, and `params`, the section the ledger keeps opaque and
 * governance defines:
 *
 *   params: {
 *     <governed parameter>: <integer within its hard limits>,   // e.g. "quorumBps": 3000
 *     constitution?: string,                                    // default: DEFAULT_CONSTITUTION
 *     models?: ModelManifest[],                                 // servable from the start
 *   }
 *
 * Any other key is refused, so a typo cannot silently leave a default in force.
 */
const NodeId = z.string().regex(/^[0-9a-f]{64}$/)

export interface GovernanceGenesisSection {
  readonly params: Partial<GovParams>
  readonly constitution?: string
  readonly models: readonly ModelManifest[]
}

export const GovernanceGenesisSectionSchema = z
  .record(z.string(), z.unknown())
  .transform((raw, ctx): GovernanceGenesisSection => {
    const params: Record<string, number> = {}
    let constitution: string | undefined
    let models: ModelManifest[] = []
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'constitution') {
        const r = z.string().min(1).max(32_768).safeParse(value)
        if (r.success) constitution = r.data
        else ctx.addIssue({ code: 'custom', message: 'constitution must be a non-empty string (≤ 32 KiB)', path: [key] })
      } else if (key === 'models') {
        // Full provenance schema; the manifests are kept as given (nothing stripped).
        const r = z.array(modelManifestSchema).max(64).safeParse(value)
        if (r.success) models = value as ModelManifest[]
        else ctx.addIssue({ code: 'custom', message: `models: ${r.error.issues[0]?.message ?? 'invalid'}`, path: [key] })
      } else {
        const why = typeof value === 'number' ? paramViolation(key, value) : `${key} must be a number`
        if (why === null) params[key] = value as number
        else ctx.addIssue({ code: 'custom', message: why, path: [key] })
      }
    }
    return { params: params as Partial<GovParams>, ...(constitution === undefined ? {} : { constitution }), models }
  })

/** The fields of a genesis that governance depends on (other fields, like `network`, are ignored). */
export const GovGenesisSchema = z.looseObject({
  /** Creation time in ms: epoch 0 starts here. */
  created: z.number().int().min(0),
  members: z.array(NodeId),
  witnesses: z.array(NodeId).min(1),
  threshold: z.number().int().min(1),
  epochMs: z.number().int().min(1),
  params: z.record(z.string(), z.unknown()).default({}).pipe(GovernanceGenesisSectionSchema),
})
export type GovGenesis = z.infer<typeof GovGenesisSchema>
