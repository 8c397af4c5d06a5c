import { z } from 'zod'
import { EpochSetHeaderSchema } from '../epoch-set.js'
import { MAX_EPOCH_SET_ENTRIES, headerOf, isStrictlySorted, verifyEpochSetHeader, type EpochSet, type EpochSetHeader } from './epoch-set.js'
import { proposalValueId } from './messages.js'

/**
 * The value decided at one height: the epoch batch. DESIGN.md "Finality": a batch is valid only if
 * it is exactly the entries present in ≥ k of the witnesses' signed epoch sets it names as
 * evidence, ordered by entry hash. Entries below the threshold stay pending and carry over to the
 * next epoch's sets. `tree` is the log after appending the batch: the precommits on the batch are
 * therefore also the checkpoint's cosignatures.
 *
 * The evidence is named by the sets' signed HEADERS, not carried in full: every witness gossips its
 * own set anyway, and carrying k full sets made a proposal k+1 times the size of a batch, so a busy
 * epoch outgrew gossipsub's 4 MiB frame and no height could be decided again. Judging a batch is
 * therefore two steps:
 * - {@link validateBatch}, on the value alone: ≥ k signed headers of distinct listed witnesses for
 *   this epoch and network, entries ascending. What a decision (k precommits) is checked against.
 * - {@link checkBatchEntries}, with the full sets: entries = those in ≥ k of them. A correct witness
 *   prevotes a fresh proposal only after this holds, so a decided batch passed it at ≥ f+1 correct
 *   witnesses; a witness that lacks a named set waits for it (`WitnessCore`, regossip brings it).
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
  /** Headers of ≥ k signed epoch sets of distinct witnesses for `epoch`, ordered by witness key. */
  readonly evidence: readonly EpochSetHeader[]
  readonly tree: BatchTree
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)

/**
 * Most entries a batch can hold: each is in ≥ k of n sets of at most {@link MAX_EPOCH_SET_ENTRIES},
 * so there are at most n·MAX/k of them, below 1.5·MAX since k > 2n/3. Sets that differ only at
 * their cut-off reach past MAX: capping a batch at one set's size would make such a height
 * impossible to decide, and sets, once signed, never change.
 */
export const MAX_BATCH_ENTRIES = Math.floor((MAX_EPOCH_SET_ENTRIES * 3) / 2)

export const EpochBatchSchema: z.ZodType<EpochBatch> = z.strictObject({
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  entries: z.array(hex32).max(MAX_BATCH_ENTRIES),
  evidence: z.array(EpochSetHeaderSchema).max(1024),
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

/** One set per witness (the first given), ordered by witness key: the evidence order of a batch. */
function evidenceSets(sets: readonly EpochSet[]): EpochSet[] {
  const byWitness = new Map<string, EpochSet>()
  for (const set of sets) if (!byWitness.has(set.witness)) byWitness.set(set.witness, set)
  return [...byWitness.values()].sort((a, b) => (a.witness < b.witness ? -1 : 1))
}

/**
 * buildBatch: the entries in ≥ k distinct witnesses' sets, ordered by hash, with those sets' headers
 * (one per witness, ordered by witness) as evidence. Null when fewer than k witnesses' sets are
 * given. The caller passes only verified sets of one epoch and appends the tree it gets by appending.
 */
export function buildBatch(sets: readonly EpochSet[], quorum: number): { entries: string[]; evidence: EpochSetHeader[] } | null {
  const chosen = evidenceSets(sets)
  if (chosen.length < quorum) return null
  return { entries: entriesAtThreshold(chosen, quorum), evidence: chosen.map(headerOf) }
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
 * validateBatch: valid(v) of Algorithm 1 as far as the value alone shows it, for the batch of
 * height `epoch`: well-formed, ≥ k evidence headers of distinct listed witnesses in order, for this
 * epoch and network, validly signed, and entries ascending. Whether the entries are exactly
 * those in ≥ k of the named sets is {@link checkBatchEntries} (it needs the sets). It does not look
 * at `tree` either (that needs the local log: the witness checks it before prevoting).
 */
export function validateBatch(batch: EpochBatch, epoch: number, rules: BatchRules): BatchVerdict {
  if (!EpochBatchSchema.safeParse(batch).success) return { ok: false, reason: 'malformed batch' }
  if (batch.epoch !== epoch) return { ok: false, reason: `batch is for epoch ${batch.epoch}, not ${epoch}` }
  if (batch.evidence.length < rules.quorum) return { ok: false, reason: `${batch.evidence.length} evidence sets < k=${rules.quorum}` }
  let previous = ''
  for (const header of batch.evidence) {
    if (header.witness <= previous) return { ok: false, reason: 'evidence not ordered by distinct witness' }
    previous = header.witness
    if (!rules.witnesses.includes(header.witness)) return { ok: false, reason: `evidence from non-witness ${header.witness}` }
    if (rules.faulty?.includes(header.witness)) return { ok: false, reason: `evidence from faulty witness ${header.witness}` }
    if (header.epoch !== epoch || header.network !== rules.network) return { ok: false, reason: 'evidence for another epoch or network' }
    if (!verifyEpochSetHeader(header)) return { ok: false, reason: `bad signature on the set of ${header.witness}` }
  }
  if (!isStrictlySorted(batch.entries)) return { ok: false, reason: 'entries not ordered by hash' }
  return { ok: true }
}

/** Finds the full set a header names (same witness and digest), if this witness holds it. */
export type SetResolver = (header: EpochSetHeader) => EpochSet | undefined

/** The full sets a batch names, in its evidence order; undefined when any is not held. */
export function resolveEvidence(batch: EpochBatch, resolve: SetResolver): EpochSet[] | undefined {
  const sets: EpochSet[] = []
  for (const header of batch.evidence) {
    const set = resolve(header)
    if (set === undefined) return undefined
    sets.push(set)
  }
  return sets
}

/**
 * The rest of valid(v), for a batch {@link validateBatch} accepted: its entries are exactly those
 * in ≥ k of the sets it names, which `resolve` finds among the sets this witness holds.
 * `missing` when some named set is not held (yet): no verdict can be given.
 */
export function checkBatchEntries(batch: EpochBatch, resolve: SetResolver, quorum: number): BatchVerdict | 'missing' {
  const sets = resolveEvidence(batch, resolve)
  return sets === undefined ? 'missing' : checkEntriesOf(batch, sets, quorum)
}

/** {@link checkBatchEntries} for a caller that already resolved the named sets (in evidence order). */
export function checkEntriesOf(batch: EpochBatch, sets: readonly EpochSet[], quorum: number): BatchVerdict {
  const expected = entriesAtThreshold(sets, quorum)
  if (expected.length !== batch.entries.length || expected.some((h, i) => h !== batch.entries[i])) {
    return { ok: false, reason: 'entries are not exactly those in ≥ k evidence sets' }
  }
  return { ok: true }
}

/**
 * Entries a batch leaves out although they are in ≥ k witnesses' sets among `sets` (the sets it
 * names and the ones this witness holds for the epoch): a non-empty answer means the proposer
 * censors (or has not seen every set yet), and a correct witness prevotes nil on a fresh proposal.
 */
export function censoredEntries(batch: EpochBatch, sets: readonly EpochSet[], quorum: number): string[] {
  const included = new Set(batch.entries)
  return entriesAtThreshold(
    sets.filter((s) => s.epoch === batch.epoch),
    quorum,
  ).filter((h) => !included.has(h))
}
