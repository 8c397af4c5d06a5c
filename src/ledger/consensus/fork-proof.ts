import { z } from 'zod'
import { canonicalJson, sha256Hex } from '../../identity/index.js'
import { verifyForkProof as verifyLedgerForkProof, epochSetForkProof, type ForkProof as LedgerForkProof } from '../fork-proof.js'
import { ForkProofBody } from '../kinds.js'
import { InvalidForkProofError } from './errors.js'
import type { EpochSet } from './epoch-set.js'
import { consensusMessageSchema, verifyConsensusMessage, type ConsensusMessage } from './messages.js'

/**
 * Fork proofs (DESIGN.md "Finality"): two statements signed by the same witness that no correct
 * witness would both sign —
 * - the ledger's kinds (`src/ledger/fork-proof.ts`): two different epoch sets for one epoch, or two
 *   conflicting cosigned checkpoints;
 * - `vote` (consensus equivocation): two different proposals, prevotes or precommits for one
 *   height, round and type, e.g. precommits for two values.
 * A proof is self-contained evidence anyone can check with `verifyForkProof`; once verified it is
 * stored, gossiped, and the witness's signatures are ignored from then on.
 */
export interface VoteForkProof {
  readonly type: 'vote'
  readonly witness: string
  readonly a: ConsensusMessage<unknown>
  readonly b: ConsensusMessage<unknown>
}

export type ForkProof = LedgerForkProof | VoteForkProof

const VoteForkProofSchema = z.strictObject({
  type: z.literal('vote'),
  witness: z.string().regex(/^[0-9a-f]{64}$/),
  a: consensusMessageSchema(z.unknown()),
  b: consensusMessageSchema(z.unknown()),
})

/** Schema of a fork proof on the wire (proposal values are covered by their signature, not parsed further). */
export const ForkProofSchema: z.ZodType<ForkProof> = z.union([ForkProofBody, VoteForkProofSchema]) as unknown as z.ZodType<ForkProof>

function signatureOf(statement: unknown): string {
  return typeof statement === 'string' ? statement : ((statement as { sig?: string }).sig ?? '')
}

/** The same proof with its two statements in a canonical order (by signature), so one fork has one id. */
export function canonicalForkProof(proof: ForkProof): ForkProof {
  if (signatureOf(proof.a) <= signatureOf(proof.b)) return proof
  return { ...proof, a: proof.b, b: proof.a } as ForkProof
}

/** Proof that `a` and `b`, two epoch sets of one witness and epoch, conflict (not verified here). */
export function epochSetFork(a: EpochSet, b: EpochSet): ForkProof {
  return canonicalForkProof(epochSetForkProof(a, b))
}

/** Proof of two conflicting consensus messages of one sender (not verified here). */
export function voteFork(a: ConsensusMessage<unknown>, b: ConsensusMessage<unknown>): ForkProof {
  return canonicalForkProof({ type: 'vote', witness: a.sender, a, b })
}

/** Stable id of a proof (sha256 of its canonical JSON), for deduplication and storage keys. */
export function forkProofId(proof: ForkProof): string {
  return sha256Hex(canonicalJson(canonicalForkProof(proof)))
}

function conflictingMessages(a: ConsensusMessage<unknown>, b: ConsensusMessage<unknown>): boolean {
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round || a.network !== b.network) return false
  if (a.type === 'proposal' && b.type === 'proposal') {
    return a.validRound !== b.validRound || canonicalJson(a.value) !== canonicalJson(b.value)
  }
  if (a.type !== 'proposal' && b.type !== 'proposal') return a.valueId !== b.valueId
  return false
}

/**
 * Verifies a fork proof against the network and witness list; returns the guilty witness's key.
 * Throws InvalidForkProofError when a signature fails, the signers differ, or nothing conflicts.
 */
export function verifyForkProof(proof: ForkProof, network: string, witnesses: readonly string[]): string {
  if (!ForkProofSchema.safeParse(proof).success) throw new InvalidForkProofError('malformed fork proof')
  if (!witnesses.includes(proof.witness)) throw new InvalidForkProofError('signer is not a witness')
  if (proof.type !== 'vote') {
    if (proof.type === 'epoch-set' && proof.a.network !== network) throw new InvalidForkProofError('set of another network')
    if (!verifyLedgerForkProof(proof, { network })) throw new InvalidForkProofError(`${proof.type} statements do not prove a fork`)
    return proof.witness
  }
  const { a, b } = proof
  if (a.sender !== proof.witness || b.sender !== proof.witness) throw new InvalidForkProofError('a message is not signed by the accused witness')
  if (a.network !== network) throw new InvalidForkProofError('message of another network')
  if (!conflictingMessages(a, b)) throw new InvalidForkProofError('the two messages do not conflict')
  if (!verifyConsensusMessage(a) || !verifyConsensusMessage(b)) throw new InvalidForkProofError('bad signature in fork proof')
  return proof.witness
}
