/**
 * The browser's view of a Commons node: typed fetch helpers for the node's own HTTP API.
 * Everything here talks to the origin that served the page; keys never reach the browser —
 * write actions ask the local node to sign with its own key.
 */

export class ApiError extends Error {
  readonly status: number
  readonly code: string | null
  constructor(status: number, message: string, code: string | null) {
    super(message)
    this.status = status
    this.code = code
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`
  let code: string | null = null
  try {
    const body = (await res.json()) as { error?: { message?: string; code?: string | null } }
    if (body.error?.message) message = body.error.message
    code = body.error?.code ?? null
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, message, code)
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' } })
  if (!res.ok) throw await toApiError(res)
  return (await res.json()) as T
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    signal,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw await toApiError(res)
  return (await res.json()) as T
}

export interface ModelEntry {
  id: string
  object: 'model'
  owned_by: string
  created?: number
  sha256?: string
  context_length?: number
  manifest?: Record<string, unknown> | null
  manifest_url?: string | null
  [extra: string]: unknown
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatParams {
  model: string
  temperature: number
  max_tokens: number
  seed: number | null
}

/** What one streamed chat answer reports besides its text. */
export interface StreamMeta {
  finishReason: string | null
  servedBy: string | null
  receiptId: string | null
  completionTokens: number | null
}

interface ChatChunk {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[]
  usage?: { completion_tokens?: number } | null
  commons?: { served_by?: string; receipt_id?: string | null }
}

/**
 * Streams a chat completion (OpenAI SSE: `data: {json}` events, ending with `data: [DONE]`),
 * calling `onText` for each piece of text. Aborting the signal closes the connection, which
 * makes the node abort generation and free its slot.
 */
export async function streamChat(
  messages: readonly ChatMessage[],
  params: ChatParams,
  onText: (text: string) => void,
  signal: AbortSignal,
): Promise<StreamMeta> {
  const body: Record<string, unknown> = {
    model: params.model,
    messages,
    temperature: params.temperature,
    max_tokens: params.max_tokens,
    stream: true,
    stream_options: { include_usage: true },
  }
  if (params.seed !== null) body.seed = params.seed
  const res = await fetch('/v1/chat/completions', {
    method: 'POST',
    signal,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
  })
  if (!res.ok || res.body === null) throw await toApiError(res)
  const meta: StreamMeta = {
    finishReason: null,
    servedBy: res.headers.get('x-commons-served-by'),
    receiptId: res.headers.get('x-commons-receipt-id'),
    completionTokens: null,
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += value
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue
        const data = line.slice(5).trim()
        if (data === '[DONE]') return meta
        const chunk = JSON.parse(data) as ChatChunk
        for (const choice of chunk.choices ?? []) {
          if (choice.delta?.content) onText(choice.delta.content)
          if (choice.finish_reason) meta.finishReason = choice.finish_reason
        }
        if (chunk.usage?.completion_tokens !== undefined) meta.completionTokens = chunk.usage.completion_tokens
        if (chunk.commons?.served_by) meta.servedBy = chunk.commons.served_by
        if (chunk.commons?.receipt_id) meta.receiptId = chunk.commons.receipt_id
      }
    }
  }
  return meta
}

/** Shortens a 64-hex id for display; the full id stays in the title attribute. */
export function shortId(id: string | null | undefined): string {
  if (!id) return '—'
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}
