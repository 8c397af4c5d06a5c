import { randomInt } from 'node:crypto'
import { z } from 'zod'
import type { SamplingParams } from '../../runtime/engine.js'
import { neutralWhen, neutralWhenEmpty, type UnsupportedRule } from './validate.js'

/**
 * Fields shared by `/v1/chat/completions` and `/v1/completions`, with OpenAI's names and ranges
 * (OpenAI API reference, "Create chat completion"), plus llama.cpp's extras `top_k`, `min_p`,
 * `repeat_penalty`, `repeat_last_n`.
 */
export const samplingFields = {
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).strict().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  // Our seeds are the counter-based sampler's 32-bit key (DESIGN.md, "Jobs").
  seed: z.number().int().min(0).max(0xffffffff).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  user: z.string().nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repeat_penalty: z.number().min(0).max(10).nullish(),
  repeat_last_n: z.number().int().min(0).max(4096).nullish(),
  // Accepted only at their neutral values; see `commonUnsupported`.
  n: z.number().int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
} as const

/** OpenAI options both endpoints refuse unless they carry their neutral value. */
export const commonUnsupported: readonly UnsupportedRule[] = [
  { key: 'n', neutral: neutralWhen(1), why: 'only one choice per request (n = 1)' },
  {
    key: 'presence_penalty',
    neutral: neutralWhen(0),
    why: 'use repeat_penalty (llama.cpp-style) instead',
  },
  {
    key: 'frequency_penalty',
    neutral: neutralWhen(0),
    why: 'use repeat_penalty (llama.cpp-style) instead',
  },
  { key: 'logit_bias', neutral: neutralWhenEmpty, why: 'logit bias is not implemented' },
]

/** The sampling-related fields after zod parsing. */
export interface SamplingFields {
  max_tokens?: number | null
  temperature?: number | null
  top_p?: number | null
  seed?: number | null
  stop?: string | string[] | null
  top_k?: number | null
  min_p?: number | null
  repeat_penalty?: number | null
  repeat_last_n?: number | null
}

/**
 * Defaults follow OpenAI's (temperature 1, top_p 1, no penalties), not llama.cpp's, so an
 * OpenAI client gets the distribution it asked for. A missing seed gets a fresh random one.
 */
export function toSamplingParams(fields: SamplingFields, maxTokens: number | null | undefined, defaultMaxTokens: number): SamplingParams {
  let temperature = fields.temperature ?? 1
  let topP = fields.top_p ?? 1
  // top_p = 0 keeps only the most likely token: that is greedy decoding.
  if (topP === 0) {
    temperature = 0
    topP = 1
  }
  const stop = fields.stop === undefined || fields.stop === null ? [] : typeof fields.stop === 'string' ? [fields.stop] : fields.stop
  return {
    temperature,
    topP,
    topK: fields.top_k ?? 0,
    minP: fields.min_p ?? 0,
    repeatPenalty: fields.repeat_penalty ?? 1,
    repeatLastN: fields.repeat_last_n ?? 64,
    seed: fields.seed ?? randomInt(0, 0x1_0000_0000),
    maxTokens: maxTokens ?? defaultMaxTokens,
    stop: stop.filter((s) => s.length > 0),
  }
}
