/**
 * Per-peer admission for inbound jobs: a token bucket (sustained rate + burst) and a cap on
 * concurrent jobs from one peer, so one gateway cannot monopolize or flood a worker. Peers are
 * identified by peer id (authenticated by noise), so the limits cannot be dodged by reconnecting.
 */
export interface PeerLimits {
  /** Sustained requests per second per peer. */
  readonly ratePerSecond: number
  /** Requests a peer may send at once after being idle. */
  readonly burst: number
  /** Jobs from one peer running at the same time. */
  readonly maxConcurrent: number
}

export const DEFAULT_PEER_LIMITS: PeerLimits = { ratePerSecond: 20, burst: 40, maxConcurrent: 16 }

interface Bucket {
  tokens: number
  updatedAt: number
  running: number
}

const MAX_TRACKED_PEERS = 10_000

export class PeerRateLimiter {
  readonly #limits: PeerLimits
  readonly #now: () => number
  readonly #buckets = new Map<string, Bucket>()

  constructor(limits: PeerLimits = DEFAULT_PEER_LIMITS, now: () => number = Date.now) {
    this.#limits = limits
    this.#now = now
  }

  /** Admits one job from `peer` (call `release` when it ends), or returns why not. */
  acquire(peer: string): 'ok' | 'rate' | 'concurrency' {
    const now = this.#now()
    let b = this.#buckets.get(peer)
    if (b === undefined) {
      if (this.#buckets.size >= MAX_TRACKED_PEERS) this.#evictIdle()
      b = { tokens: this.#limits.burst, updatedAt: now, running: 0 }
      this.#buckets.set(peer, b)
    }
    b.tokens = Math.min(this.#limits.burst, b.tokens + ((now - b.updatedAt) / 1000) * this.#limits.ratePerSecond)
    b.updatedAt = now
    if (b.running >= this.#limits.maxConcurrent) return 'concurrency'
    if (b.tokens < 1) return 'rate'
    b.tokens -= 1
    b.running += 1
    return 'ok'
  }

  release(peer: string): void {
    const b = this.#buckets.get(peer)
    if (b !== undefined && b.running > 0) b.running -= 1
  }

  #evictIdle(): void {
    for (const [peer, b] of this.#buckets) if (b.running === 0) this.#buckets.delete(peer)
  }
}
