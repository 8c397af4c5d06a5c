/**
 * Fork proofs: a witness that signs two conflicting statements has equivocated, and the pair of
 * statements is the proof, checkable by anyone with the witness's public key alone. Two kinds:
 * - two checkpoints of the same log (same origin) cosigned by the witness, of the same size with
 *   different roots, or closing the same epoch (`epoch N` extension line) with different trees;
 * - two signed epoch sets of the same network and epoch with different entries.
 * The proof is itself publishable as a `fork-proof` log entry (kinds.ts); nodes then ignore that
 * witness's signatures (DESIGN.md "Finality").
 */
import type { z } from 'zod'
import { bytesEqual, canonicalJson } from '../identity/index.js'
import { epochOf, parseSignedCheckpoint, verifyCosignatures, type SignedCheckpoint } from './checkpoint.js'
import { verifyEpochSet, type SignedEpochSet } from './epoch-set.js'
import type { ForkProofBody } from './kinds.js'

/** The body of a `fork-proof` entry. */
export type ForkProof = z.infer<typeof ForkProofBody>

/** What the verifier already trusts: our log's origin and network id (either may be omitted). */
export interface ForkProofContext {
  readonly origin?: string
  readonly network?: string
}

function conflictingCheckpoints(a: SignedCheckpoint, b: SignedCheckpoint): boolean {
  const ca = a.checkpoint
  const cb = b.checkpoint
  if (ca.origin !== cb.origin) return false
  if (ca.size === cb.size && !bytesEqual(ca.root, cb.root)) return true
  const ea = epochOf(ca)
  return ea !== undefined && ea === epochOf(cb) && (ca.size !== cb.size || !bytesEqual(ca.root, cb.root))
}

/** True iff `proof` shows that `proof.witness` signed two conflicting statements. Never throws. */
export function verifyForkProof(proof: ForkProof, ctx: ForkProofContext = {}): boolean {
  try {
    if (proof.type === 'checkpoint') {
      const a = parseSignedCheckpoint(proof.a)
      const b = parseSignedCheckpoint(proof.b)
      if (ctx.origin !== undefined && a.checkpoint.origin !== ctx.origin) return false
      if (!conflictingCheckpoints(a, b)) return false
      return verifyCosignatures(a, [proof.witness]).valid.length === 1 && verifyCosignatures(b, [proof.witness]).valid.length === 1
    }
    const { a, b } = proof
    if (!verifyEpochSet(a) || !verifyEpochSet(b)) return false
    if (a.witness !== proof.witness || b.witness !== proof.witness) return false
    if (a.network !== b.network || (ctx.network !== undefined && a.network !== ctx.network)) return false
    return a.epoch === b.epoch && canonicalJson(a.entries) !== canonicalJson(b.entries)
  } catch {
    return false
  }
}

/**
 * The first epoch a fork proof shows the witness misbehaving in: the epoch of the two sets, or the
 * earlier epoch the two checkpoints close (0 when a checkpoint names none). Its signatures count
 * for checkpoints of earlier epochs only, so a proof found later does not undo history that was
 * final before the fork — every node and auditor derives the same cut-off from the proof alone.
 * The epoch lines are the forker's own words, so the minimum is taken: a forker can only pull its
 * cut-off earlier (at worst to 0, a ban over all history), never later. Counting it for a
 * backdated checkpoint would take k − 1 other witnesses signing a false epoch: beyond the fault
 * bound the whole log relies on.
 */
export function forkEpoch(proof: ForkProof): number {
  if (proof.type === 'epoch-set') return Math.min(proof.a.epoch, proof.b.epoch)
  try {
    const ea = epochOf(parseSignedCheckpoint(proof.a).checkpoint)
    const eb = epochOf(parseSignedCheckpoint(proof.b).checkpoint)
    return ea === undefined || eb === undefined ? 0 : Math.min(ea, eb)
  } catch {
    return 0
  }
}

/** Each convicted witness with the earliest `forkEpoch` among its (verified) proofs. */
export function forkCutoffs(proofs: Iterable<ForkProof>): Map<string, number> {
  const cutoffs = new Map<string, number>()
  for (const proof of proofs) cutoffs.set(proof.witness, Math.min(cutoffs.get(proof.witness) ?? Infinity, forkEpoch(proof)))
  return cutoffs
}

/**
 * Whether `witness`'s cosignature counts for a checkpoint closing `epoch`: always unless convicted,
 * and a convicted one only before its fork epoch (never for a checkpoint without an epoch line).
 */
export function countsAt(cutoffs: ReadonlyMap<string, number>, witness: string, epoch: number | undefined): boolean {
  const from = cutoffs.get(witness)
  return from === undefined || (epoch !== undefined && epoch < from)
}

/** Builds a checkpoint fork proof from two conflicting notes (not verified: call verifyForkProof). */
export function checkpointForkProof(witness: string, a: string, b: string): ForkProof {
  return { type: 'checkpoint', witness, a, b }
}

/** Builds an epoch-set fork proof from two conflicting signed sets (not verified: call verifyForkProof). */
export function epochSetForkProof(a: SignedEpochSet, b: SignedEpochSet): ForkProof {
  return { type: 'epoch-set', witness: a.witness, a, b }
}
