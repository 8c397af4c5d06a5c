import { manifestHash, type ModelManifest } from '../models/manifest.js'
import type { GovState, ModelRecord } from './types.js'

/**
 * What governance says about serving one model file (by sha256): the rule behind `/v1/models`,
 * the workers' capability records and the scheduler (issue 7: "admitted models become servable
 * by workers and listed by /v1/models with their provenance; retired ones stop being scheduled").
 * Pure reads of the state, like `queries.ts`.
 */

/** Whether a model may be served, and if not, why. */
export type ServingVerdict =
  | { readonly servable: true; readonly record: ModelRecord }
  /** No genesis listing and no executed `admit-model` proposal names this file. */
  | { readonly servable: false; readonly reason: 'not_admitted' }
  /** It was admitted, then an executed `retire-model` proposal retired it. */
  | { readonly servable: false; readonly reason: 'retired'; readonly record: ModelRecord }

/** The verdict for the model file with this sha256. */
export function servingVerdict(state: GovState, sha256: string): ServingVerdict {
  const record = state.models[sha256.toLowerCase()]
  if (record === undefined) return { servable: false, reason: 'not_admitted' }
  return record.status === 'servable' ? { servable: true, record } : { servable: false, reason: 'retired', record }
}

/**
 * Models governance knows (admitted now or retired) whose manifest name or file hash is `model`,
 * servable ones first. A request names a model by its served name or sha256; this finds the
 * decision to quote when nobody serves it ("retired by proposal 12").
 */
export function governedModelsNamed(state: GovState, model: string): Array<{ sha256: string; record: ModelRecord }> {
  const wanted = model.toLowerCase()
  const direct = state.models[wanted]
  if (direct !== undefined) return [{ sha256: wanted, record: direct }]
  return Object.entries(state.models)
    .filter(([, r]) => r.manifest.name === model)
    .map(([sha256, record]) => ({ sha256, record }))
    .sort((a, b) => (a.record.status === b.record.status ? (a.sha256 < b.sha256 ? -1 : 1) : a.record.status === 'servable' ? -1 : 1))
}

/** How a model came to be servable: the genesis, or a proposal with the entries behind it. */
export interface ModelAdmission {
  readonly by: 'genesis' | 'proposal'
  /** Proposal id (= log index of its `propose` entry); null for the genesis. */
  readonly proposal: number | null
  readonly proposer: string | null
  /** Log indexes of the entries that decided it: the `propose` entry, then the votes in force. Empty for the genesis. */
  readonly entries: readonly number[]
  /** The genesis (network id = hex sha256 of its canonical JSON) that lists it, or under which it was voted. */
  readonly network: string
  /** Governance time at which it became servable (genesis creation, or the epoch it took effect). */
  readonly at: number
}

/** Why a model is served, in the form `/v1/models` shows it (issue 7: "why is this model served?"). */
export interface ModelProvenance {
  readonly sha256: string
  readonly name: string
  readonly license: string
  /** Where the weights came from: trained by our code, generated, or nobody declared it. */
  readonly origin: ModelManifest['provenance']['kind']
  /** The training corpus (name, license, sha256, source), or null when the weights were not trained on data. */
  readonly trainingData: Readonly<Record<string, unknown>> | null
  /** The code that made the weights: its commit, and the generator for synthetic weights. */
  readonly code: { readonly commit: string | null; readonly generator: string | null }
  readonly evaluation: Readonly<Record<string, unknown>> | null
  /** Hex sha256 of the admitted manifest's RFC 8785 form (what the log's decision covers). */
  readonly manifestSha256: string
  readonly manifest: ModelManifest
  readonly admission: ModelAdmission
}

/** Admission trail of a model record: the genesis, or the proposal with its propose and vote entries. */
export function admissionOf(state: GovState, record: ModelRecord): ModelAdmission {
  if (record.admittedBy === null) return { by: 'genesis', proposal: null, proposer: null, entries: [], network: state.network, at: record.admittedAt }
  const p = state.proposals[record.admittedBy]
  const votes = p === undefined ? [] : Object.values(p.votes).map((v) => v.index).sort((a, b) => a - b)
  return {
    by: 'proposal',
    proposal: record.admittedBy,
    proposer: p?.proposer ?? null,
    entries: [record.admittedBy, ...votes],
    network: state.network,
    at: record.admittedAt,
  }
}

/** The provenance of a servable model, or undefined when governance does not let it be served. */
export function modelProvenance(state: GovState, sha256: string): ModelProvenance | undefined {
  const verdict = servingVerdict(state, sha256)
  if (!verdict.servable) return undefined
  // Every admitted manifest passed the full schema of the models layer (genesis: `genesis.ts`;
  // proposals: `proposals.ts`), and is kept as given: its full type is known.
  const manifest = verdict.record.manifest as unknown as ModelManifest
  const p = manifest.provenance
  return {
    sha256: manifest.file.sha256,
    name: manifest.name,
    license: manifest.license,
    origin: p.kind,
    trainingData: p.kind === 'trained' ? p.corpus : null,
    code: {
      commit: p.kind === 'undeclared' ? null : (p.codeCommit ?? null),
      generator: p.kind === 'synthetic' ? p.generator : null,
    },
    evaluation: manifest.evaluation ?? null,
    manifestSha256: manifestHash(manifest),
    manifest,
    admission: admissionOf(state, verdict.record),
  }
}
