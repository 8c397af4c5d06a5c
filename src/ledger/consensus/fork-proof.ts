import type { z } from 'zod'
import { canonicalJson, sha256Hex } from '../../identity/index.js'
import { verifyForkProof as verifyLedgerForkProof, epochSetForkProof, voteForkProof, type ForkProof as LedgerForkProof } from '../fork-proof.js'
import { ForkProofBody } from '../kinds.js'
import { InvalidForkProofError } from './errors.js'
import type { EpochSet } from './epoch-set.js'
import type { ConsensusMessage } from './messages.js'

/**
 * Fork proofs (DESIGN.md "Finality"): two statements signed by the same witness that no correct
 * witness would both sign — two different epoch sets for one epoch, two conflicting cosigned
 * checkpoints, or two different proposals, prevotes or precommits for one height, round and type
 * (`../fork-proof.ts` verifies all three; `../kinds.ts` is their schema, a `fork-proof` entry's
 * body). A proof is self-contained evidence anyone can check; once verified it is stored,
 * gossiped and submitted as a `fork-proof` entry, which convicts the witness once final.
 */
export type ForkProof = LedgerForkProof
export type VoteForkProof = Extract<ForkProof, { type: 'vote' }>

/** Schema of a fork proof on the wire (proposal values are covered by their signature, not parsed further). */
export const ForkProofSchema: z.ZodType<ForkProof> = ForkProofBody

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
  return canonicalForkProof(voteForkProof(a, b))
}

/** Stable id of a proof (sha256 of its canonical JSON), for deduplication and storage keys. */
export function forkProofId(proof: ForkProof): string {
  return sha256Hex(canonicalJson(canonicalForkProof(proof)))
}

/**
 * Verifies a fork proof against the network and witness list; returns the guilty witness's key.
 * Throws InvalidForkProofError when a signature fails, the signers differ, or nothing conflicts.
 */
export function verifyForkProof(proof: ForkProof, network: string, witnesses: readonly string[], quorum: number): string {
  if (!ForkProofSchema.safeParse(proof).success) throw new InvalidForkProofError('malformed fork proof')
  if (!witnesses.includes(proof.witness)) throw new InvalidForkProofError('signer is not a witness')
  if (proof.type !== 'checkpoint' && proof.a.network !== network) throw new InvalidForkProofError(`${proof.type} statements of another network`)
  if (!verifyLedgerForkProof(proof, { network, finality: { witnesses, threshold: quorum } })) throw new InvalidForkProofError(`${proof.type} statements do not prove a fork`)
  return proof.witness
}
