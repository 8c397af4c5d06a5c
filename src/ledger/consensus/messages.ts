import { z } from 'zod'
import { bytesToHex, canonicalBytes, canonicalJson, hexToBytes, sha256Hex, sign, verify, type KeyPair } from '../../identity/index.js'

/**
 * Signed messages of the Tendermint algorithm (Buchman, Kwon, Milosevic 2018, Algorithm 1):
 * ⟨PROPOSAL, h, r, v, vr⟩, ⟨PREVOTE, h, r, id(v)|nil⟩, ⟨PRECOMMIT, h, r, id(v)|nil⟩.
 * Each is signed by its sender (a witness, hex raw Ed25519 public key) over the RFC 8785 canonical
 * form of every field except `sig`, prefixed by a domain tag so a signature made here can never be
 * replayed as a log entry or a checkpoint cosignature. `network` binds it to one genesis.
 * A proposal is signed with its value replaced by the value's id (`proposalValueId`): its
 * header alone then carries the signature, so two conflicting proposals can be proven in a few
 * hundred bytes whatever the size of the batches they propose (`ProposalHeader`).
 * Everything received from a peer is untrusted until `verifyConsensusMessage` accepts it.
 */

/** Domain-separation tag inside every signed consensus message. */
export const CONSENSUS_DOMAIN = 'commons/tendermint/v3'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const hex64 = z.string().regex(/^[0-9a-f]{128}$/)
const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

/** PROPOSAL carrying the full value (the epoch batch); `validRound` is −1 or an earlier round. */
export interface ProposalMessage<V> {
  readonly type: 'proposal'
  readonly network: string
  readonly height: number
  readonly round: number
  readonly value: V
  readonly validRound: number
  readonly sender: string
  readonly sig: string
}

export type VoteType = 'prevote' | 'precommit'

/**
 * PREVOTE or PRECOMMIT on a value id (or nil). A non-nil PRECOMMIT may carry an `extension`:
 * the sender's cosignature of the checkpoint inside the value (see `TendermintConfig`).
 */
export interface VoteMessage {
  readonly type: VoteType
  readonly network: string
  readonly height: number
  readonly round: number
  readonly valueId: string | null
  readonly extension?: string
  readonly sender: string
  readonly sig: string
}

export type ConsensusMessage<V> = ProposalMessage<V> | VoteMessage

/** A proposal with its value replaced by the value's id: exactly what the proposer signed. */
export interface ProposalHeader {
  readonly type: 'proposal'
  readonly network: string
  readonly height: number
  readonly round: number
  readonly valueId: string
  readonly validRound: number
  readonly sender: string
  readonly sig: string
}

/** A signed statement as a fork proof carries it: a vote, or the header of a proposal. */
export type SignedStatement = VoteMessage | ProposalHeader

/**
 * The id a proposal's signature covers in place of its value: SHA-256 of its RFC 8785 form, which
 * is also id(v) of the algorithm for batches (`batch.ts` batchId). Values are immutable once built
 * or parsed, and the id is asked for on every sign, verify and vote count: each object is hashed once.
 */
export function proposalValueId(value: unknown): string {
  if (typeof value !== 'object' || value === null) return sha256Hex(canonicalJson(value))
  let id = valueIds.get(value)
  if (id === undefined) {
    id = sha256Hex(canonicalJson(value))
    valueIds.set(value, id)
  }
  return id
}

const valueIds = new WeakMap<object, string>()

/** The header of a proposal (or the vote itself): the statement its signature covers. */
export function statementOf(message: ConsensusMessage<unknown> | SignedStatement): SignedStatement {
  if (message.type !== 'proposal' || !('value' in message)) return message
  const { value, ...rest } = message
  return { ...rest, valueId: proposalValueId(value) }
}

const proposalFields = {
  type: z.literal('proposal'),
  network: z.string().max(128),
  height: counter,
  round: counter,
  validRound: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER),
  sender: hex32,
  sig: hex64,
}

const voteSchema = z.strictObject({
  type: z.enum(['prevote', 'precommit']),
  network: z.string().max(128),
  height: counter,
  round: counter,
  valueId: hex32.nullable(),
  extension: z.string().max(1024).optional(),
  sender: hex32,
  sig: hex64,
})

/** Zod schema of a consensus message whose proposal value has the schema `value`. */
export function consensusMessageSchema<V>(value: z.ZodType<V>): z.ZodType<ConsensusMessage<V>> {
  return z.union([z.strictObject({ ...proposalFields, value }), voteSchema]) as unknown as z.ZodType<ConsensusMessage<V>>
}

/** Zod schema of a signed statement (a vote or a proposal header). */
export const SignedStatementSchema: z.ZodType<SignedStatement> = z.union([z.strictObject({ ...proposalFields, valueId: hex32 }), voteSchema])

type Unsigned<M> = M extends unknown ? Omit<M, 'sig' | 'sender'> : never

function signedBytes(message: object): Uint8Array {
  const { sig: _sig, ...rest } = statementOf(message as ConsensusMessage<unknown>) as { sig?: string }
  return canonicalBytes({ domain: CONSENSUS_DOMAIN, ...rest })
}

/** Signs a consensus message as `keys` (the sender is the hex public key). */
export function signConsensusMessage<V>(unsigned: Unsigned<ConsensusMessage<V>>, keys: KeyPair): ConsensusMessage<V> {
  const withSender = { ...unsigned, sender: bytesToHex(keys.publicKey) }
  const sig = bytesToHex(sign(signedBytes(withSender), keys.secretKey))
  return { ...withSender, sig } as ConsensusMessage<V>
}

// Verifying Ed25519 dominates the simulator and the live witness: each gossiped message is checked
// by every receiver in one process of the simulator, so remember recent verdicts by exact content.
const verdicts = new Map<string, boolean>()
const MAX_VERDICTS = 50_000

/** True when `message.sig` is `message.sender`'s valid signature of the message (or of the proposal header). */
export function verifyConsensusMessage<V>(message: ConsensusMessage<V> | SignedStatement): boolean {
  const known = verdictsByObject.get(message)
  if (known !== undefined) return known
  const ok = verifyUncached(message)
  verdictsByObject.set(message, ok)
  return ok
}

// The same message object is checked again when it is relayed or re-gossiped: skip even the
// canonicalization then (messages are never mutated once signed or parsed).
const verdictsByObject = new WeakMap<object, boolean>()

function verifyUncached<V>(message: ConsensusMessage<V> | SignedStatement): boolean {
  let bytes: Uint8Array
  try {
    bytes = signedBytes(message)
  } catch {
    return false
  }
  const key = `${message.sig}:${Buffer.from(bytes).toString('base64')}`
  const cached = verdicts.get(key)
  if (cached !== undefined) return cached
  let ok = false
  try {
    ok = verify(hexToBytes(message.sig), bytes, hexToBytes(message.sender))
  } catch {
    ok = false
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
  verdicts.set(key, ok)
  return ok
}
