import { z } from 'zod'
import { bytesToHex, canonicalBytes, hexToBytes, sha256Hex, sign, verify, type KeyPair } from '../identity/index.js'
import type { SamplingParams } from '../runtime/engine.js'
import type { Prompt } from '../runtime/service.js'

/**
 * A worker's signed receipt for one job: what it ran (model hash, params, seed, prompt hash),
 * what it produced (hash of all output token ids, the chosen tokens' logprobs, counts) and how
 * long it took. Signed with the worker's Ed25519 key over RFC 8785 canonical JSON, so receipts
 * can feed credits and verification (DESIGN.md "Jobs"): a verifier replays the prompt plus
 * output in one prefill and compares the committed logprobs.
 */

/** Signing domain: a receipt signature is never valid as any other signed object. */
export const RECEIPT_DOMAIN = 'commons/receipt/1'

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)

export const SamplingParamsSchema = z.strictObject({
  temperature: z.number().min(0).max(100),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0).max(1_000_000),
  minP: z.number().min(0).max(1),
  repeatPenalty: z.number().min(0).max(100),
  repeatLastN: z.number().int().min(0).max(1_000_000),
  seed: z.number().int().min(0).max(0xffffffff),
  maxTokens: z.number().int().min(1).max(1_000_000),
  stop: z.array(z.string().max(256)).max(16),
})

export const ReceiptSchema = z.strictObject({
  jobId: z.string().min(1).max(128),
  /** Node id of the worker that ran the job (signer). */
  worker: hex64,
  /** Node id of the gateway that asked for it. */
  gateway: hex64,
  model: z.strictObject({ name: z.string().max(128), sha256: hex64 }),
  params: SamplingParamsSchema,
  /** sha256 of the canonical JSON of the job's `Prompt`. */
  promptHash: hex64,
  promptTokens: z.number().int().min(0),
  /** Output tokens that were given as `resumeTokens` (produced by an earlier worker). */
  resumedTokens: z.number().int().min(0),
  /** sha256 of the canonical JSON array of all output token ids, resumed ones included. */
  outputHash: hex64,
  completionTokens: z.number().int().min(0),
  /** Natural-log probabilities of the tokens this worker chose, in order. */
  logprobs: z.array(z.number()),
  finishReason: z.enum(['stop', 'length', 'abort']),
  timings: z.strictObject({
    queuedMs: z.number().min(0),
    timeToFirstTokenMs: z.number().min(0),
    decodeMs: z.number().min(0),
  }),
  /** Worker clock, ms since the epoch. */
  issuedAt: z.number().int().nonnegative(),
})

export type Receipt = z.infer<typeof ReceiptSchema>

export const SignedReceiptSchema = z.strictObject({
  receipt: ReceiptSchema,
  signature: z.string().regex(/^[0-9a-f]{128}$/),
})

export type SignedReceipt = z.infer<typeof SignedReceiptSchema>

function signingBytes(receipt: Receipt): Uint8Array {
  return canonicalBytes({ domain: RECEIPT_DOMAIN, receipt })
}

/** sha256 hex of a job's prompt, as committed in receipts. */
export function promptHash(prompt: Prompt): string {
  return sha256Hex(canonicalBytes(prompt))
}

/** sha256 hex of output token ids, as committed in receipts. */
export function outputHash(tokens: readonly number[]): string {
  return sha256Hex(canonicalBytes(tokens))
}

/** Signs a receipt with the worker's key. */
export function signReceipt(receipt: Receipt, keyPair: KeyPair): SignedReceipt {
  return { receipt, signature: bytesToHex(sign(signingBytes(receipt), keyPair.secretKey)) }
}

/** True when the signature is the receipt's `worker` key's over the receipt. */
export function verifyReceiptSignature(signed: SignedReceipt): boolean {
  return verify(hexToBytes(signed.signature), signingBytes(signed.receipt), hexToBytes(signed.receipt.worker))
}

/** Content id of a signed receipt: sha256 of its canonical JSON (signature included). */
export function receiptId(signed: SignedReceipt): string {
  return sha256Hex(canonicalBytes(signed))
}

/** What the gateway knows independently of the worker, to check a receipt against. */
export interface ReceiptExpectation {
  readonly jobId: string
  readonly worker: string
  readonly gateway: string
  readonly params: SamplingParams
  readonly prompt: Prompt
  /** All output token ids: resumed ones followed by the ones this worker streamed. */
  readonly tokens: readonly number[]
  readonly resumedTokens: number
  /** Logprobs of the tokens this worker streamed. */
  readonly logprobs: readonly number[]
}

/**
 * Checks a receipt from a worker against what the gateway sent and received. Returns a reason
 * string when it does not match (the receipt is then rejected), `undefined` when it does.
 */
export function checkReceipt(signed: SignedReceipt, expected: ReceiptExpectation): string | undefined {
  const r = signed.receipt
  if (r.worker !== expected.worker) return 'receipt signed for another worker'
  if (!verifyReceiptSignature(signed)) return 'bad receipt signature'
  if (r.jobId !== expected.jobId) return 'receipt for another job'
  if (r.gateway !== expected.gateway) return 'receipt names another gateway'
  if (bytesToHex(canonicalBytes(r.params)) !== bytesToHex(canonicalBytes(expected.params))) return 'receipt params differ from the request'
  if (r.promptHash !== promptHash(expected.prompt)) return 'receipt prompt hash differs from the request'
  if (r.resumedTokens !== expected.resumedTokens) return 'receipt resumed-token count differs'
  if (r.completionTokens !== expected.tokens.length) return 'receipt token count differs from the streamed tokens'
  if (r.outputHash !== outputHash(expected.tokens)) return 'receipt output hash differs from the streamed tokens'
  if (r.logprobs.length !== expected.logprobs.length || r.logprobs.some((lp, i) => lp !== expected.logprobs[i])) {
    return 'receipt logprobs differ from the streamed tokens'
  }
  return undefined
}
