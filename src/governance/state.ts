import { canonicalJson, sha256Hex } from '../identity/index.js'
import { DEFAULT_CONSTITUTION } from './constitution.js'
import { CorruptSnapshotError, InvalidGovernanceGenesisError } from './errors.js'
import { GovGenesisSchema } from './genesis.js'
import { defaultParams } from './params.js'
import { validWitnessThreshold } from './witnesses.js'
import type { GovState, ModelRecord } from './types.js'

/**
 * The state before the first entry: the genesis members (all active), witnesses, parameters
 * (defaults overridden by the genesis within hard limits), constitution and genesis models.
 * `network` is the hex sha256 of the genesis's canonical JSON, as in every entry.
 */
export function initialState(genesis: unknown): GovState {
  const parsed = GovGenesisSchema.safeParse(genesis)
  if (!parsed.success) throw new InvalidGovernanceGenesisError(parsed.error.message, parsed.error)
  const g = parsed.data
  const network = sha256Hex(canonicalJson(genesis))
  const witnesses = [...new Set(g.witnesses)].sort()
  if (witnesses.length !== g.witnesses.length) throw new InvalidGovernanceGenesisError('duplicate witness')
  if (!validWitnessThreshold(witnesses.length, g.threshold)) {
    throw new InvalidGovernanceGenesisError(`threshold ${g.threshold} of ${witnesses.length} witnesses must be > 2n/3 and ≤ n`)
  }
  const members: GovState['members'] = {}
  for (const id of [...new Set(g.members)].sort()) {
    members[id] = { status: 'active', since: g.created, admittedAt: null, vouchedBy: [], leftAt: null, expelledBy: null }
  }
  const models: Record<string, ModelRecord> = {}
  for (const manifest of g.params.models) {
    models[manifest.file.sha256] = { manifest, status: 'servable', admittedBy: null, admittedAt: g.created, retiredBy: null, retiredAt: null }
  }
  const text = g.params.constitution ?? DEFAULT_CONSTITUTION
  return {
    v: 1,
    network,
    genesisTime: g.created,
    epochMs: g.epochMs,
    time: g.created,
    lastIndex: -1,
    params: { ...defaultParams(), ...g.params.params },
    paramHistory: [],
    constitution: { text, sha256: sha256Hex(text), amendedBy: null, since: g.created },
    witnesses: { witnesses, threshold: g.threshold, setBy: null, since: g.created },
    members,
    activeMembers: Object.keys(members).length,
    candidates: {},
    vouchers: {},
    delegations: {},
    carried: {},
    delegationMarks: {},
    proposals: {},
    open: [],
    models,
    seqs: {},
    rejections: [],
  }
}

/** Hex sha256 of the state's RFC 8785 canonical JSON: equal on every node at the same log size and checkpoint. */
export function stateRoot(state: GovState): string {
  return sha256Hex(canonicalJson(state))
}

/** A deep copy (the reducer updates the state it is given; copy to keep an older version). */
export function cloneState(state: GovState): GovState {
  return structuredClone(state)
}

/** Serialised snapshot: the canonical state and its root, so a restore can check it. */
export function snapshotState(state: GovState): string {
  const text = canonicalJson(state)
  return JSON.stringify({ root: sha256Hex(text), state: JSON.parse(text) as unknown })
}

/**
 * Restores a snapshot written by `snapshotState`. The content must hash to the stored root and
 * belong to `network` (when given): a snapshot on disk is trusted no further than that.
 */
export function restoreState(snapshot: string, network?: string): GovState {
  let parsed: unknown
  try {
    parsed = JSON.parse(snapshot)
  } catch (err) {
    throw new CorruptSnapshotError(`not JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CorruptSnapshotError('not an object')
  const { root, state } = parsed as { root?: unknown; state?: unknown }
  if (typeof root !== 'string' || typeof state !== 'object' || state === null) throw new CorruptSnapshotError('missing root or state')
  if (sha256Hex(canonicalJson(state)) !== root) throw new CorruptSnapshotError('content does not match its root')
  const s = state as GovState
  if (s.v !== 1) throw new CorruptSnapshotError(`unknown version ${String(s.v)}`)
  if (network !== undefined && s.network !== network) throw new CorruptSnapshotError('snapshot of another network')
  return s
}
