/**
 * Fork proofs: a witness that signs two conflicting statements has equivocated, and the pair of
 * statements is the proof, checkable by anyone with the witness's public key alone. Two kinds:
 * - two FINAL checkpoints of the same log (same origin) both cosigned by the witness, of the same
 *   size with different roots, or closing the same epoch (`epoch N` line) with different trees;
 * - two signed epoch sets of the same network and epoch with different entries, shown by their
 *   headers (the signed digests, `epoch-set.ts`);
 * - two consensus messages (`consensus/messages.ts`) of one height, round and type with different
 *   content: two proposals (their headers), or prevotes / precommits for two values.
 * Every statement is carried in its signed, compact form, so a proof fits in a log entry however
 * large the sets or batches it is about.
 * The proof is published as a `fork-proof` log entry (kinds.ts); from the epoch after the
 * checkpoint that makes that entry final, nobody counts the witness's signatures (`convictions.ts`).
 */
import type { z } from 'zod'
import { bytesEqual } from '../identity/index.js'
import { epochOf, parseSignedCheckpoint, verifyCosignatures, type SignedCheckpoint } from './checkpoint.js'
import { statementOf, verifyConsensusMessage, type ConsensusMessage, type SignedStatement } from './consensus/messages.js'
import { epochSetHeader, verifyEpochSetHeader, type EpochSetHeader, type SignedEpochSet } from './epoch-set.js'
import { ForkProofBody } from './kinds.js'

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

/** Two statements one witness may not both sign: same height, round and type, different content. */
function conflictingStatements(a: SignedStatement, b: SignedStatement): boolean {
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round) return false
  if (a.type === 'proposal' && b.type === 'proposal') return a.validRound !== b.validRound || a.valueId !== b.valueId
  return a.valueId !== b.valueId
}

/**
 * True iff `proof` shows that `proof.witness` signed two conflicting statements. Never throws.
 * The proof is parsed first (strict schema): a statement must be exactly what its signature
 * covers, or an extra field (a proposal's `value` beside a made-up `valueId`) could pass the
 * signature check on one field and the conflict check on another.
 */
export function verifyForkProof(value: ForkProof, ctx: ForkProofContext = {}): boolean {
  const parsed = ForkProofBody.safeParse(value)
  if (!parsed.success) return false
  const proof = parsed.data
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
      return conflictingStatements(a, b) && verifyConsensusMessage(a) && verifyConsensusMessage(b)
    }
    const { a, b } = proof
    if (!verifyEpochSetHeader(a) || !verifyEpochSetHeader(b)) return false
    if (a.witness !== proof.witness || b.witness !== proof.witness) return false
    if (a.network !== b.network || (ctx.network !== undefined && a.network !== ctx.network)) return false
    return a.epoch === b.epoch && a.digest !== b.digest
  } catch {
    return false
  }
}

/** Builds a checkpoint fork proof from two conflicting notes (not verified: call verifyForkProof). */
export function checkpointForkProof(witness: string, a: string, b: string): ForkProof {
  return { type: 'checkpoint', witness, a, b }
}

const headerOf = (set: SignedEpochSet | EpochSetHeader): EpochSetHeader => ('digest' in set ? set : epochSetHeader(set))

/** Builds an epoch-set fork proof from two conflicting signed sets or their headers (not verified: call verifyForkProof). */
export function epochSetForkProof(a: SignedEpochSet | EpochSetHeader, b: SignedEpochSet | EpochSetHeader): ForkProof {
  return { type: 'epoch-set', witness: a.witness, a: headerOf(a), b: headerOf(b) }
}

/** Builds a vote fork proof from two conflicting messages of one sender, proposals as their headers (not verified). */
export function voteForkProof(a: ConsensusMessage<unknown> | SignedStatement, b: ConsensusMessage<unknown> | SignedStatement): ForkProof {
  return { type: 'vote', witness: a.sender, a: statementOf(a), b: statementOf(b) }
}
