import { z } from 'zod'
import { InvalidParameterError, UnsupportedParameterError } from '../errors.js'
import { commonUnsupported, samplingFields } from './common.js'
import { checkParameters, neutralWhen, parseOrThrow, type UnsupportedRule } from './validate.js'

/** `POST /v1/completions` body (OpenAI API reference, "Create completion", legacy). */
const CompletionSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()), z.array(z.number().int()), z.array(z.array(z.number().int()))]),
  logprobs: z.number().int().nullish(),
  best_of: z.number().int().nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
})

const KNOWN = new Set(Object.keys(CompletionSchema.shape))

const COMPLETION_UNSUPPORTED: readonly UnsupportedRule[] = [
  ...commonUnsupported,
  { key: 'logprobs', neutral: neutralWhen(), why: 'log probabilities are not returned yet' },
  { key: 'best_of', neutral: neutralWhen(1), why: 'only one candidate per request (best_of = 1)' },
  { key: 'echo', neutral: neutralWhen(false), why: 'the prompt is not echoed back' },
  { key: 'suffix', neutral: neutralWhen(''), why: 'insertion (fill-in-the-middle) is not implemented' },
]

/** A validated completion request with its prompt reduced to one string. */
export type CompletionBody = Omit<z.output<typeof CompletionSchema>, 'prompt'> & { prompt: string }

/** Validates a completion body; throws 400 errors naming the offending `param`. */
export function parseCompletion(body: unknown): CompletionBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(null, 'The request body must be a JSON object')
  }
  checkParameters(body as Record<string, unknown>, KNOWN, COMPLETION_UNSUPPORTED)
  const parsed = parseOrThrow(CompletionSchema, body)
  if (parsed.stream_options != null && parsed.stream !== true) {
    throw new InvalidParameterError('stream_options', "'stream_options' is only allowed when 'stream' is true")
  }
  const { prompt } = parsed
  if (typeof prompt !== 'string') {
    if (prompt.length === 1 && typeof prompt[0] === 'string') return { ...parsed, prompt: prompt[0] }
    if (prompt.length > 0 && prompt.every((p) => typeof p === 'string')) {
      throw new UnsupportedParameterError('prompt', 'batched prompts (an array of several strings) are not supported: send one request per prompt')
    }
    throw new UnsupportedParameterError('prompt', 'token-id prompts are not supported: send the prompt as a string')
  }
  return { ...parsed, prompt }
}
