import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { InvalidMultiaddrError } from './errors.js'

/**
 * Keeps the node connected to its `--bootstrap` peers: dials each address at start and again,
 * with capped exponential backoff, whenever the peer behind it is not connected. libp2p's own
 * `@libp2p/bootstrap` only dials once per discovery; a swarm whose first node restarts must
 * re-find it, so we keep trying for as long as the node runs (a timer, never a busy loop).
 */

const MIN_RETRY_MS = 250
const MAX_RETRY_MS = 5_000

/** Parses bootstrap multiaddrs up front so a typo fails at start, not silently later. */
export function parseMultiaddrs(addrs: readonly string[]): Multiaddr[] {
  return addrs.map((a) => {
    try {
      return multiaddr(a)
    } catch (err) {
      throw new InvalidMultiaddrError(a, err)
    }
  })
}

interface Target {
  readonly addr: Multiaddr
  peer: PeerId | undefined
  delayMs: number
  nextAt: number
}

export class BootstrapDialer {
  readonly #node: Libp2p
  readonly #targets: Target[]
  #timer: NodeJS.Timeout | undefined
  #controller = new AbortController()
  #running = false

  constructor(node: Libp2p, addrs: readonly Multiaddr[]) {
    this.#node = node
    this.#targets = addrs.map((addr) => ({ addr, peer: undefined, delayMs: MIN_RETRY_MS, nextAt: 0 }))
  }

  start(): void {
    if (this.#targets.length === 0 || this.#running) return
    this.#running = true
    this.#controller = new AbortController()
    this.#schedule(0)
  }

  stop(): void {
    this.#running = false
    this.#controller.abort()
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule(ms: number): void {
    if (!this.#running) return
    this.#timer = setTimeout(() => void this.#tick(), ms)
    this.#timer.unref()
  }

  async #tick(): Promise<void> {
    const now = Date.now()
    await Promise.all(this.#targets.map(async (t) => {
      if (t.peer !== undefined && this.#node.getConnections(t.peer).length > 0) {
        t.delayMs = MIN_RETRY_MS
        return
      }
      if (now < t.nextAt) return
      try {
        const conn = await this.#node.dial(t.addr, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(5_000)]) })
        t.peer = conn.remotePeer
        t.delayMs = MIN_RETRY_MS
      } catch {
        t.nextAt = Date.now() + t.delayMs
        t.delayMs = Math.min(MAX_RETRY_MS, t.delayMs * 2)
      }
    }))
    this.#schedule(MIN_RETRY_MS * 2)
  }
}
