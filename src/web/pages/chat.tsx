import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, streamChat, type ChatMessage, type ModelEntry, type StreamMeta } from '../api.js'
import { Empty, ErrorNote, Id } from '../components/ui.js'
import { useJson, useStored } from '../hooks.js'

interface Turn extends ChatMessage {
  meta?: StreamMeta
  stopped?: boolean
}

interface Settings {
  model: string
  temperature: number
  maxTokens: number
  seed: string
}

const DEFAULT_SETTINGS: Settings = { model: '', temperature: 0.8, maxTokens: 256, seed: '' }

export function ChatPage() {
  const models = useJson<{ data: ModelEntry[] }>('/v1/models')
  const [turns, setTurns] = useStored<Turn[]>('commons.chat.turns', [])
  const [settings, setSettings] = useStored<Settings>('commons.chat.settings', DEFAULT_SETTINGS)
  const [draft, setDraft] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [streaming, setStreaming] = useState(false)
  const controller = useRef<AbortController | null>(null)
  const bottom = useRef<HTMLDivElement>(null)

  const available = models.data?.data ?? []
  const model = available.some((m) => m.id === settings.model) ? settings.model : (available[0]?.id ?? '')

  useEffect(() => bottom.current?.scrollIntoView({ block: 'end' }), [turns])
  useEffect(() => () => controller.current?.abort(), [])

  const send = async (event: Event): Promise<void> => {
    event.preventDefault()
    const text = draft.trim()
    if (text === '' || streaming || model === '') return
    const seed = settings.seed.trim() === '' ? null : Number(settings.seed)
    if (seed !== null && (!Number.isInteger(seed) || seed < 0)) {
      setError('Seed must be a non-negative integer, or empty for a random one.')
      return
    }
    setError(null)
    setDraft('')
    const history: Turn[] = [...turns, { role: 'user', content: text }]
    let answer = ''
    setTurns([...history, { role: 'assistant', content: '' }])
    setStreaming(true)
    const abort = new AbortController()
    controller.current = abort
    try {
      const meta = await streamChat(
        history.map(({ role, content }) => ({ role, content })),
        { model, temperature: settings.temperature, max_tokens: settings.maxTokens, seed },
        (piece) => {
          answer += piece
          setTurns([...history, { role: 'assistant', content: answer }])
        },
        abort.signal,
      )
      setTurns([...history, { role: 'assistant', content: answer, meta }])
    } catch (err) {
      if (abort.signal.aborted) {
        setTurns([...history, { role: 'assistant', content: answer, stopped: true }])
      } else {
        setTurns(history)
        setError(err instanceof ApiError ? err.message : 'The node did not answer. Is it still running?')
      }
    } finally {
      controller.current = null
      setStreaming(false)
    }
  }

  const update = (patch: Partial<Settings>): void => setSettings({ ...settings, model, ...patch })

  return (
    <div class="chat">
      <form class="chat-settings" aria-label="Generation settings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Model
          <select value={model} onChange={(e) => update({ model: e.currentTarget.value })} disabled={available.length === 0}>
            {available.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Temperature <output>{settings.temperature.toFixed(2)}</output>
          <input
            type="range"
            min="0"
            max="2"
            step="0.05"
            value={settings.temperature}
            onInput={(e) => update({ temperature: Number(e.currentTarget.value) })}
          />
        </label>
        <label>
          Max tokens
          <input
            type="number"
            min="1"
            max="4096"
            value={settings.maxTokens}
            onChange={(e) => update({ maxTokens: Math.max(1, Math.min(4096, Number(e.currentTarget.value) || 1)) })}
          />
        </label>
        <label>
          Seed
          <input
            type="text"
            inputMode="numeric"
            placeholder="random"
            value={settings.seed}
            onChange={(e) => update({ seed: e.currentTarget.value })}
          />
        </label>
        <button type="button" class="ghost" onClick={() => setTurns([])} disabled={streaming || turns.length === 0}>
          New chat
        </button>
      </form>
      <ErrorNote error={models.error} />
      <div class="transcript" aria-live="polite" data-testid="transcript">
        {turns.length === 0 && (
          <Empty>Ask anything. Answers come from open models run by volunteers; every answer names the worker that produced it.</Empty>
        )}
        {turns.map((turn, i) => (
          <article key={i} class={`turn ${turn.role}`} data-role={turn.role}>
            <div class="bubble">{turn.content || (streaming && i === turns.length - 1 ? '…' : '')}</div>
            {turn.role === 'assistant' && (turn.meta || turn.stopped) && (
              <footer class="turn-meta">
                {turn.stopped && <span class="tag">stopped</span>}
                {turn.meta?.finishReason && <span class="tag">{turn.meta.finishReason}</span>}
                {turn.meta?.completionTokens != null && <span>{turn.meta.completionTokens} tokens</span>}
                {turn.meta?.servedBy && (
                  <span>
                    served by <Id value={turn.meta.servedBy} href="#/network" />
                  </span>
                )}
                {turn.meta?.receiptId && (
                  <a href={`/api/receipts/${encodeURIComponent(turn.meta.receiptId)}`} target="_blank" rel="noreferrer">
                    receipt
                  </a>
                )}
              </footer>
            )}
          </article>
        ))}
        <div ref={bottom} />
      </div>
      <ErrorNote error={error} />
      <form class="composer" onSubmit={(e) => void send(e)}>
        <label class="sr-only" for="prompt">
          Message
        </label>
        <textarea
          id="prompt"
          rows={2}
          placeholder={model === '' ? 'No model is available yet' : `Message ${model}`}
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) void send(e)
          }}
        />
        {streaming ? (
          <button type="button" class="danger" onClick={() => controller.current?.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={draft.trim() === '' || model === ''}>
            Send
          </button>
        )}
      </form>
    </div>
  )
}
