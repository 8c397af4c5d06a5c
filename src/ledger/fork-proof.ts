/**
 * Fork proofs: a witness that signs two conflicting statements has equivocated, and the pair of
 * statements is the proof, checkable by anyone with the witness's public key alone. Two kinds:
 * - two FINAL checkpoints of the same log (same origin) both cosigned by the witness, of the same
 *   size with different roots, or closing the same epoch (`epoch N` line) with different trees;
 * - two signed epoch sets of the same network and epoch with different entries;
 * - two consensus messages (`consensus/messages.ts`) of one height, round and type with different
 *   content: two proposals, or prevotes / precommits for two values.
 * The proof is published as a `fork-proof` log entry (kinds.ts); from the epoch after the
 * checkpoint that makes that entry final, nobody counts the witness's signatures (`convictions.ts`).
 */
import type { z } from 'zod'
import { bytesEqual, canonicalJson } from '../identity/index.js'
import { epochOf, parseSignedCheckpoint, verifyCosignatures, type SignedCheckpoint } from './checkpoint.js'
import { verifyConsensusMessage, type ConsensusMessage } from './consensus/messages.js'
import { verifyEpochSet, type SignedEpochSet } from './epoch-set.js'
import type { ForkProofBody } from './kinds.js'

/** The body of a `fork-proof` entry. */
export type ForkProof = z.infer<typeof ForkProofBody>

/** What the verifier already trusts: our log's origin, network id and witness set (each may be omitted). */
export interface ForkProofContext {
  readonly origin?: string
  readonly network?: string
  /** The witnesses and threshold that make a checkpoint final; without them no checkpoint proof verifies. */
  readonly finality?: { readonly witnesses: readonly string[]; readonly threshold: number }
}

function conflictingCheckpoints(a: SignedCheckpoint, b: SignedCheckpoint): boolean {
  const ca = a.checkpoint
  const cb = b.checkpoint
  if (ca.origin !== cb.origin) return false
  if (ca.size === cb.size && !bytesEqual(ca.root, cb.root)) return true
  const ea = epochOf(ca)
  return ea !== undefined && ea === epochOf(cb) && (ca.size !== cb.size || !bytesEqual(ca.root, cb.root))
}

/** Two messages one witness may not both sign: same height, round and type, different content. */
function conflictingMessages(a: ConsensusMessage<unknown>, b: ConsensusMessage<unknown>): boolean {
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round) return false
  if (a.type === 'proposal' && b.type === 'proposal') {
    return a.validRound !== b.validRound || canonicalJson(a.value) !== canonicalJson(b.value)
  }
  if (a.type !== 'proposal' && b.type !== 'proposal') return a.valueId !== b.valueId
  return false
}

/** True iff `proof` shows that `proof.witness` signed two conflicting statements. Never throws. */
export function verifyForkProof(proof: ForkProof, ctx: ForkProofContext = {}): boolean {
  try {
    if (proof.type === 'checkpoint') {
      const a = parseSignedCheckpoint(proof.a)
      const b = parseSignedCheckpoint(proof.b)
      if (ctx.origin !== undefined && a.checkpoint.origin !== ctx.origin) return false
      if (!conflictingCheckpoints(a, b) || ctx.finality === undefined) return false
      // Both FINAL, both cosigned by the witness. A lone cosignature proves nothing: a correct
      // witness cosigns the batch of every round it precommits (the cosignature rides on the
      // precommit), and may precommit different batches of one epoch in different rounds.
      const { witnesses, threshold } = ctx.finality
      return [a, b].every((note) => {
        const valid = verifyCosignatures(note, witnesses).valid
        return valid.length >= threshold && valid.includes(proof.witness)
      })
    }
    if (proof.type === 'vote') {
      const { a, b } = proof
      if (a.sender !== proof.witness || b.sender !== proof.witness) return false
      if (a.network !== b.network || (ctx.network !== undefined && a.network !== ctx.network)) return false
      return conflictingMessages(a, b) && verifyConsensusMessage(a) && verifyConsensusMessage(b)
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

/** Builds a checkpoint fork proof from two conflicting notes (not verified: call verifyForkProof). */
export function checkpointForkProof(witness: string, a: string, b: string): ForkProof {
  return { type: 'checkpoint', witness, a, b }
}

/** Builds an epoch-set fork proof from two conflicting signed sets (not verified: call verifyForkProof). */
export function epochSetForkProof(a: SignedEpochSet, b: SignedEpochSet): ForkProof {
  return { type: 'epoch-set', witness: a.witness, a, b }
}
