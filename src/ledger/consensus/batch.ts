import { z } from 'zod'
import { EpochSetSchema, isStrictlySorted, verifyEpochSet, type EpochSet } from './epoch-set.js'
import { proposalValueId } from './messages.js'

/**
 * The value decided at one height: the epoch batch. DESIGN.md "Finality": a batch is valid only if
 * it is exactly the entries present in ≥ k of the witnesses' signed epoch sets it carries as
 * evidence, ordered by entry hash. Entries below the threshold stay pending and carry over to the
 * next epoch's sets. `tree` is the log after appending the batch: the precommits on the batch are
 * therefore also the checkpoint's cosignatures.
 */

/** The log's tree after the batch is appended (RFC 9162 size and root hash, hex). */
export interface BatchTree {
  readonly size: number
  readonly root: string
}

export interface EpochBatch {
  readonly epoch: number
  /** Entry hashes in ≥ k evidence sets, strictly ascending: the order they are appended in. */
  readonly entries: readonly string[]
  /** ≥ k signed epoch sets of distinct witnesses for `epoch`, ordered by witness key. */
  readonly evidence: readonly EpochSet[]
  readonly tree: BatchTree
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)

export const EpochBatchSchema: z.ZodType<EpochBatch> = z.strictObject({
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  entries: z.array(hex32),
  evidence: z.array(EpochSetSchema).max(1024),
  tree: z.strictObject({ size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), root: hex32 }),
})

/** id(v) of the paper: sha256 of the batch's canonical JSON, the id its proposal's signature covers. */
export function batchId(batch: EpochBatch): string {
  return proposalValueId(batch)
}

/** Entries present in ≥ `quorum` of `sets` (one set per witness: the first seen), ascending. */
export function entriesAtThreshold(sets: readonly EpochSet[], quorum: number): string[] {
  const counts = new Map<string, number>()
  const seen = new Set<string>()
  for (const set of sets) {
    if (seen.has(set.witness)) continue
    seen.add(set.witness)
    for (const hash of set.entries) counts.set(hash, (counts.get(hash) ?? 0) + 1)
  }
  return [...counts].filter(([, c]) => c >= quorum).map(([h]) => h).sort()
}

/**
 * buildBatch: the entries in ≥ k distinct witnesses' sets, ordered by hash, with those sets (one
 * per witness, ordered by witness) as evidence. Null when fewer than k witnesses' sets are given.
 * The caller passes only verified sets of one epoch and appends the tree it gets by appending.
 */
export function buildBatch(sets: readonly EpochSet[], quorum: number): { entries: string[]; evidence: EpochSet[] } | null {
  const byWitness = new Map<string, EpochSet>()
  for (const set of sets) if (!byWitness.has(set.witness)) byWitness.set(set.witness, set)
  if (byWitness.size < quorum) return null
  const evidence = [...byWitness.values()].sort((a, b) => (a.witness < b.witness ? -1 : 1))
  return { entries: entriesAtThreshold(evidence, quorum), evidence }
}

export interface BatchRules {
  readonly network: string
  readonly witnesses: readonly string[]
  readonly quorum: number
  /** Witnesses proven to equivocate: their sets are not evidence. */
  readonly faulty?: readonly string[]
}

export type BatchVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/**
 * validateBatch: the objective validity predicate (valid(v) of Algorithm 1) for the batch of
 * height `epoch`: ≥ k evidence sets, of distinct listed witnesses, for this epoch and network,
 * validly signed, and `entries` exactly the hashes in ≥ k of them, ascending. It does not look at
 * `tree` (that needs the local log: the witness checks it before prevoting).
 */
export function validateBatch(batch: EpochBatch, epoch: number, rules: BatchRules): BatchVerdict {
  if (!EpochBatchSchema.safeParse(batch).success) return { ok: false, reason: 'malformed batch' }
  if (batch.epoch !== epoch) return { ok: false, reason: `batch is for epoch ${batch.epoch}, not ${epoch}` }
  if (batch.evidence.length < rules.quorum) return { ok: false, reason: `${batch.evidence.length} evidence sets < k=${rules.quorum}` }
  let previous = ''
  for (const set of batch.evidence) {
    if (set.witness <= previous) return { ok: false, reason: 'evidence not ordered by distinct witness' }
    previous = set.witness
    if (!rules.witnesses.includes(set.witness)) return { ok: false, reason: `evidence from non-witness ${set.witness}` }
    if (rules.faulty?.includes(set.witness)) return { ok: false, reason: `evidence from faulty witness ${set.witness}` }
    if (set.epoch !== epoch || set.network !== rules.network) return { ok: false, reason: 'evidence for another epoch or network' }
    if (!verifyEpochSet(set)) return { ok: false, reason: `bad signature on the set of ${set.witness}` }
  }
  if (!isStrictlySorted(batch.entries)) return { ok: false, reason: 'entries not ordered by hash' }
  const expected = entriesAtThreshold(batch.evidence, rules.quorum)
  if (expected.length !== batch.entries.length || expected.some((h, i) => h !== batch.entries[i])) {
    return { ok: false, reason: 'entries are not exactly those in ≥ k evidence sets' }
  }
  return { ok: true }
}

/**
 * Entries a batch leaves out although they are in ≥ k witnesses' sets among its evidence and the
 * `known` sets this witness holds for the epoch: a non-empty answer means the proposer censors
 * (or has not seen every set yet), and a correct witness prevotes nil on a fresh proposal.
 */
export function censoredEntries(batch: EpochBatch, known: readonly EpochSet[], quorum: number): string[] {
  const union = [...batch.evidence, ...known.filter((s) => s.epoch === batch.epoch)]
  const included = new Set(batch.entries)
  return entriesAtThreshold(union, quorum).filter((h) => !included.has(h))
}
