import { z } from 'zod'
import type { ChatMessage } from '../../runtime/engine.js'
import { InvalidParameterError, UnsupportedParameterError } from '../errors.js'
import { commonUnsupported, samplingFields } from './common.js'
import { checkParameters, neutralWhen, neutralWhenEmpty, parseOrThrow, type UnsupportedRule } from './validate.js'

/** `POST /v1/chat/completions` body (OpenAI API reference, "Create chat completion"). */
const ChatCompletionSchema = z.object({
  ...samplingFields,
  messages: z.array(z.unknown()).min(1),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().nullish(),
  response_format: z.unknown().optional(),
  tools: z.unknown().optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.unknown().optional(),
  function_call: z.unknown().optional(),
  modalities: z.unknown().optional(),
  audio: z.unknown().optional(),
  prediction: z.unknown().optional(),
  reasoning_effort: z.unknown().optional(),
  web_search_options: z.unknown().optional(),
  store: z.boolean().nullish(),
  metadata: z.unknown().optional(),
  service_tier: z.unknown().optional(),
})

const KNOWN = new Set(Object.keys(ChatCompletionSchema.shape))

const textOnly = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 1 && v[0] === 'text')
const textFormat = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'object' && (v as { type?: unknown }).type === 'text')

const CHAT_UNSUPPORTED: readonly UnsupportedRule[] = [
  ...commonUnsupported,
  { key: 'logprobs', neutral: neutralWhen(false), why: 'log probabilities are not returned yet' },
  { key: 'top_logprobs', neutral: neutralWhen(0), why: 'log probabilities are not returned yet' },
  { key: 'response_format', neutral: textFormat, why: "only {\"type\":\"text\"} (no JSON mode or schemas)" },
  { key: 'tools', neutral: neutralWhenEmpty, why: 'tool calling is not implemented' },
  { key: 'tool_choice', neutral: neutralWhen('none'), why: 'tool calling is not implemented' },
  { key: 'functions', neutral: neutralWhenEmpty, why: 'function calling is not implemented' },
  { key: 'function_call', neutral: neutralWhen('none'), why: 'function calling is not implemented' },
  { key: 'modalities', neutral: textOnly, why: 'only text output' },
  { key: 'audio', neutral: neutralWhen(), why: 'only text output' },
  { key: 'prediction', neutral: neutralWhen(), why: 'predicted outputs are not implemented' },
  { key: 'reasoning_effort', neutral: neutralWhen(), why: 'the served models are not reasoning models' },
  { key: 'web_search_options', neutral: neutralWhen(), why: 'web search is not implemented' },
  { key: 'store', neutral: neutralWhen(false), why: 'nodes do not store completions' },
  { key: 'metadata', neutral: neutralWhenEmpty, why: 'nodes do not store completions' },
  { key: 'service_tier', neutral: neutralWhen('auto', 'default'), why: 'there is a single service tier' },
]

const MessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([
    z.string(),
    z.array(z.object({ type: z.string(), text: z.string().optional() }).loose()),
    z.null(),
  ]),
}).loose()

/** Turns one OpenAI message into a `ChatMessage`, refusing what we cannot render faithfully. */
function toChatMessage(raw: unknown, i: number): ChatMessage {
  const msg = parseOrThrow(MessageSchema, raw, ['messages', i])
  for (const [key, value] of Object.entries(msg)) {
    if (key === 'role' || key === 'content') continue
    // Clients that echo back a previous assistant message send these keys as null.
    if (value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      throw new UnsupportedParameterError(`messages[${i}].${key}`, `'messages[${i}].${key}' is not supported by this node`)
    }
  }
  if (msg.role === 'tool' || msg.role === 'function') {
    throw new UnsupportedParameterError(`messages[${i}].role`, `messages with role '${msg.role}' are not supported: tool calling is not implemented`)
  }
  let content: string
  if (msg.content === null) {
    throw new InvalidParameterError(`messages[${i}].content`, `Invalid value for 'messages[${i}].content': expected a string`)
  } else if (typeof msg.content === 'string') {
    content = msg.content
  } else {
    const parts: string[] = []
    msg.content.forEach((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw new UnsupportedParameterError(
          `messages[${i}].content[${j}].type`,
          `content parts of type '${part.type}' are not supported: the served models take text only`,
        )
      }
      parts.push(part.text)
    })
    content = parts.join('')
  }
  // OpenAI's `developer` role replaces `system` for newer models; templates know only `system`.
  const role = msg.role === 'developer' ? 'system' : msg.role
  return { role, content }
}

/** A validated chat request. */
export type ChatCompletionBody = Omit<z.output<typeof ChatCompletionSchema>, 'messages'> & { messages: ChatMessage[] }

/** Validates a chat completion body; throws 400 errors naming the offending `param`. */
export function parseChatCompletion(body: unknown): ChatCompletionBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(null, 'The request body must be a JSON object')
  }
  checkParameters(body as Record<string, unknown>, KNOWN, CHAT_UNSUPPORTED)
  const parsed = parseOrThrow(ChatCompletionSchema, body)
  if (parsed.stream_options != null && parsed.stream !== true) {
    throw new InvalidParameterError('stream_options', "'stream_options' is only allowed when 'stream' is true")
  }
  return { ...parsed, messages: parsed.messages.map(toChatMessage) }
}
