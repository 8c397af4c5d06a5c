import { z } from 'zod'
import * as lp from 'it-length-prefixed'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MalformedFrameError } from './errors.js'
import { SamplingParamsSchema, SignedReceiptSchema } from './receipt.js'

/**
 * Frames of `/commons/job/1`: each is one JSON object, UTF-8, prefixed with its length as an
 * unsigned varint (multiformats unsigned-varint, the libp2p convention, via it-length-prefixed).
 *
 *   gateway → worker:  request
 *   worker → gateway:  token*  then  (receipt | error)
 *
 * Every frame from a peer is untrusted: `parseFrame` size-checks, JSON-parses and zod-validates
 * it before anything reads a field.
 */

/** Largest frame either side accepts (a request carries the prompt: 1 MiB is ~250k tokens of text). */
export const MAX_FRAME_BYTES = 1024 * 1024

const ChatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
})

export const PromptSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('completion'), prompt: z.string() }),
  z.strictObject({ kind: z.literal('chat'), messages: z.array(ChatMessageSchema).min(1).max(4096) }),
])

export const InferenceRequestSchema = z.strictObject({
  model: z.string().min(1).max(128),
  prompt: PromptSchema,
  params: SamplingParamsSchema,
  resumeTokens: z.array(z.number().int().min(0).max(0x7fffffff)).max(1_000_000).optional(),
})

export const RequestFrameSchema = z.strictObject({
  type: z.literal('request'),
  jobId: z.string().min(1).max(128),
  request: InferenceRequestSchema,
})

export const TokenFrameSchema = z.strictObject({
  type: z.literal('token'),
  index: z.number().int().min(0),
  id: z.number().int().min(0),
  text: z.string(),
  logprob: z.number(),
})

export const ResultSchema = z.strictObject({
  model: z.string(),
  text: z.string(),
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  finishReason: z.enum(['stop', 'length', 'abort']),
})

export const ReceiptFrameSchema = z.strictObject({
  type: z.literal('receipt'),
  result: ResultSchema,
  signed: SignedReceiptSchema,
})

export const ErrorFrameSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string().max(64),
  message: z.string().max(4096),
  status: z.number().int().min(400).max(599),
})

export const WorkerFrameSchema = z.discriminatedUnion('type', [TokenFrameSchema, ReceiptFrameSchema, ErrorFrameSchema])

export type RequestFrame = z.infer<typeof RequestFrameSchema>
export type TokenFrame = z.infer<typeof TokenFrameSchema>
export type ReceiptFrame = z.infer<typeof ReceiptFrameSchema>
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>
export type WorkerFrame = z.infer<typeof WorkerFrameSchema>

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Encodes one frame: varint length ‖ UTF-8 JSON. */
export function encodeFrame(frame: RequestFrame | WorkerFrame): Uint8ArrayList {
  return lp.encode.single(encoder.encode(JSON.stringify(frame)))
}

/** Decodes and validates one frame body (without its length prefix); throws `MalformedFrameError`. */
export function parseFrame<T>(body: Uint8Array | Uint8ArrayList, schema: z.ZodType<T>): T {
  if (body.byteLength > MAX_FRAME_BYTES) throw new MalformedFrameError(`frame of ${body.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`)
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(body instanceof Uint8Array ? body : body.subarray()))
  } catch (err) {
    throw new MalformedFrameError('frame is not UTF-8 JSON', err)
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new MalformedFrameError(`invalid frame: ${issue === undefined ? 'schema mismatch' : `${issue.path.join('.')}: ${issue.message}`}`)
  }
  return parsed.data
}

/**
 * Splits a byte stream into validated frames. An over-long length prefix fails before the body
 * is buffered (it-length-prefixed's `maxDataLength`), so a peer cannot make us allocate it.
 */
export async function* readFrames<T>(
  source: AsyncIterable<Uint8Array | Uint8ArrayList> | Iterable<Uint8Array | Uint8ArrayList>,
  schema: z.ZodType<T>,
  maxBytes: number = MAX_FRAME_BYTES,
): AsyncGenerator<T, void, undefined> {
  try {
    for await (const body of lp.decode(source as AsyncIterable<Uint8Array | Uint8ArrayList>, { maxDataLength: maxBytes })) {
      yield parseFrame(body, schema)
    }
  } catch (err) {
    if (err instanceof MalformedFrameError) throw err
    const name = err instanceof Error ? err.name : ''
    if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'UnexpectedEOFError' || name === 'InvalidMessageLengthError') {
      throw new MalformedFrameError(`bad frame length: ${(err as Error).message}`, err)
    }
    throw err
  }
}
