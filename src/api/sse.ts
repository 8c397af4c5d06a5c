import type { ServerResponse } from 'node:http'

/**
 * Server-sent events as OpenAI streams them (WHATWG HTML, "Server-sent events"): each event is a
 * single `data: <json>` line followed by a blank line; the stream ends with `data: [DONE]`.
 */
export class SseWriter {
  readonly #res: ServerResponse

  constructor(res: ServerResponse) {
    this.#res = res
  }

  /** Sends the status line and headers; `extraHeaders` carries what hooks set (CORS). */
  open(extraHeaders: Record<string, string | number | string[]>): void {
    this.#res.writeHead(200, {
      ...extraHeaders,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    })
    // Push the headers out now so clients see the response start before the first token.
    this.#res.flushHeaders()
  }

  /** Writes one `data:` event unless the client is gone. */
  send(payload: unknown): void {
    if (this.#res.writableEnded || this.#res.destroyed) return
    this.#res.write(`data: ${JSON.stringify(payload)}\n\n`)
  }

  /** Writes the terminating `data: [DONE]` and ends the response. */
  done(): void {
    if (this.#res.writableEnded || this.#res.destroyed) return
    this.#res.end('data: [DONE]\n\n')
  }

  /** Ends the response without `[DONE]` (after an in-stream error event). */
  end(): void {
    if (this.#res.writableEnded || this.#res.destroyed) return
    this.#res.end()
  }
}
