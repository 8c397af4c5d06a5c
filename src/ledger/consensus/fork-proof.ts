import { z } from 'zod'
import { canonicalJson, sha256Hex } from '../../identity/index.js'
import { InvalidForkProofError } from './errors.js'
import { EpochSetSchema, verifyEpochSet, type EpochSet } from './epoch-set.js'
import { consensusMessageSchema, verifyConsensusMessage, type ConsensusMessage } from './messages.js'

/**
 * Fork proofs (DESIGN.md "Finality"): two statements signed by the same witness that no correct
 * witness would both sign —
 * - `epoch-set`: two different epoch sets for one epoch;
 * - `vote`: two different proposals, prevotes or precommits for one height, round and type
 *   (equivocation; e.g. precommits for two values).
 * A proof is self-contained evidence anyone can check with `verifyForkProof`; once verified it is
 * stored, gossiped, and the witness's signatures are ignored from then on.
 */
export type ForkProof =
  | { readonly kind: 'epoch-set'; readonly first: EpochSet; readonly second: EpochSet }
  | { readonly kind: 'vote'; readonly first: ConsensusMessage<unknown>; readonly second: ConsensusMessage<unknown> }

/** Schema of a fork proof on the wire; proposal values are checked only for being present (their signature covers them). */
export const ForkProofSchema: z.ZodType<ForkProof> = z.union([
  z.strictObject({ kind: z.literal('epoch-set'), first: EpochSetSchema, second: EpochSetSchema }),
  z.strictObject({
    kind: z.literal('vote'),
    first: consensusMessageSchema(z.unknown()),
    second: consensusMessageSchema(z.unknown()),
  }),
]) as unknown as z.ZodType<ForkProof>

/** Builds a proof with its two statements in a canonical order (by signature), so one fork has one proof id. */
export function makeForkProof(proof: ForkProof): ForkProof {
  if (proof.first.sig <= proof.second.sig) return proof
  return { ...proof, first: proof.second, second: proof.first } as ForkProof
}

/** Stable id of a proof (sha256 of its canonical JSON), for deduplication and storage keys. */
export function forkProofId(proof: ForkProof): string {
  return sha256Hex(canonicalJson(makeForkProof(proof)))
}

function conflictingVotes(a: ConsensusMessage<unknown>, b: ConsensusMessage<unknown>): boolean {
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
  const parsed = ForkProofSchema.safeParse(proof)
  if (!parsed.success) throw new InvalidForkProofError('malformed fork proof')
  if (proof.kind === 'epoch-set') {
    const { first, second } = proof
    if (first.witness !== second.witness) throw new InvalidForkProofError('the two sets have different signers')
    if (first.network !== network || second.network !== network) throw new InvalidForkProofError('set of another network')
    if (first.epoch !== second.epoch) throw new InvalidForkProofError('the two sets are for different epochs')
    if (canonicalJson(first.entries) === canonicalJson(second.entries)) throw new InvalidForkProofError('the two sets are equal')
    if (!verifyEpochSet(first) || !verifyEpochSet(second)) throw new InvalidForkProofError('bad signature in fork proof')
    if (!witnesses.includes(first.witness)) throw new InvalidForkProofError('signer is not a witness')
    return first.witness
  }
  const { first, second } = proof
  if (first.sender !== second.sender) throw new InvalidForkProofError('the two messages have different signers')
  if (first.network !== network) throw new InvalidForkProofError('message of another network')
  if (!conflictingVotes(first, second)) throw new InvalidForkProofError('the two messages do not conflict')
  if (!verifyConsensusMessage(first) || !verifyConsensusMessage(second)) throw new InvalidForkProofError('bad signature in fork proof')
  if (!witnesses.includes(first.sender)) throw new InvalidForkProofError('signer is not a witness')
  return first.sender
}
