import type { PeerId, Stream } from '@libp2p/interface'
import type { CommonsHost } from './host.js'

/**
 * Keeps one spare, not-yet-used outbound stream per recently used peer for one protocol, so a
 * job does not wait for stream setup. Opening a stream in libp2p 3 costs a muxer stream, a peer
 * store write and (when negotiated fully) a multistream-select round trip: 15–30 ms measured on
 * our loaded 2-core machine, which would dominate time-to-first-token. Streams are opened with
 * lazy negotiation (the protocol header travels with the first frame), and a spare older than
 * `maxIdleMs` is dropped before the remote's negotiation timeout (libp2p default 10 s) can
 * reset it. Spares are refilled only after a stream is taken, so an idle gateway opens nothing.
 */
export class StreamPool {
  readonly #host: CommonsHost
  readonly #protocol: string
  readonly #maxIdleMs: number
  readonly #spares = new Map<string, { stream: Stream; at: number }>()
  readonly #opening = new Set<string>()
  #closed = false

  constructor(host: CommonsHost, protocol: string, maxIdleMs = 4_000) {
    this.#host = host
    this.#protocol = protocol
    this.#maxIdleMs = maxIdleMs
  }

  /** A stream to `peer`: the spare when fresh and open, else a new one. */
  async take(peer: PeerId, signal?: AbortSignal): Promise<Stream> {
    const key = peer.toString()
    const spare = this.#spares.get(key)
    this.#spares.delete(key)
    if (spare !== undefined) {
      if (Date.now() - spare.at < this.#maxIdleMs && spare.stream.status === 'open' && spare.stream.writeStatus === 'writable') return spare.stream
      spare.stream.abort(new Error('stale spare stream'))
    }
    return this.#open(peer, signal)
  }

  /** Opens a spare stream to `peer` in the background (no-op if one is ready or opening). */
  refill(peer: PeerId): void {
    const key = peer.toString()
    if (this.#closed || this.#spares.has(key) || this.#opening.has(key)) return
    this.#opening.add(key)
    this.#open(peer, AbortSignal.timeout(5_000)).then((stream) => {
      this.#opening.delete(key)
      if (this.#closed || this.#spares.has(key)) stream.abort(new Error('spare not needed'))
      else this.#spares.set(key, { stream, at: Date.now() })
    }, () => this.#opening.delete(key))
  }

  /** Drops a peer's spare (e.g. the peer failed). */
  forget(peer: PeerId): void {
    const key = peer.toString()
    this.#spares.get(key)?.stream.abort(new Error('peer forgotten'))
    this.#spares.delete(key)
  }

  close(): void {
    this.#closed = true
    for (const { stream } of this.#spares.values()) stream.abort(new Error('pool closed'))
    this.#spares.clear()
  }

  #open(peer: PeerId, signal?: AbortSignal): Promise<Stream> {
    return this.#host.dialProtocol(peer, this.#protocol, { negotiateFully: false, ...(signal === undefined ? {} : { signal }) })
  }
}
