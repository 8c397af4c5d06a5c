/**
 * What this gateway has observed of each worker: added latency, decode speed, recent failures
 * (decaying, so a worker that recovers is used again) and the jobs in flight that its last
 * capability record could not yet include. Observations are local and never gossiped.
 */

/** Half-life of a failure's weight. */
const FAILURE_HALF_LIFE_MS = 30_000
/** Weight of the newest sample in the moving averages. */
const EWMA_ALPHA = 0.3

interface Stats {
  latencyMs: number | undefined
  tokensPerSecond: number | undefined
  failures: number
  failuresAt: number
  /** Dispatch times of jobs still running there. */
  readonly running: Map<number, number>
  lastRecordAt: number
}

export interface WorkerObservation {
  readonly latencyMs: number
  readonly tokensPerSecond: number | undefined
  readonly recentFailures: number
  readonly unreportedJobs: number
  readonly runningJobs: number
}

export class WorkerStats {
  readonly #stats = new Map<string, Stats>()
  readonly #now: () => number
  #nextJob = 0

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  #get(nodeId: string): Stats {
    let s = this.#stats.get(nodeId)
    if (s === undefined) {
      s = { latencyMs: undefined, tokensPerSecond: undefined, failures: 0, failuresAt: 0, running: new Map(), lastRecordAt: 0 }
      this.#stats.set(nodeId, s)
    }
    return s
  }

  /** A fresh capability record arrived: jobs sent before it are now part of its load. */
  recordSeen(nodeId: string, at: number = this.#now()): void {
    this.#get(nodeId).lastRecordAt = at
  }

  /** A job was sent to the worker; returns a handle for `finished`. */
  dispatched(nodeId: string): number {
    const id = this.#nextJob++
    this.#get(nodeId).running.set(id, this.#now())
    return id
  }

  finished(nodeId: string, job: number): void {
    this.#get(nodeId).running.delete(job)
  }

  observeLatency(nodeId: string, ms: number): void {
    const s = this.#get(nodeId)
    s.latencyMs = s.latencyMs === undefined ? ms : s.latencyMs + EWMA_ALPHA * (ms - s.latencyMs)
  }

  observeSpeed(nodeId: string, tokensPerSecond: number): void {
    if (!Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) return
    const s = this.#get(nodeId)
    s.tokensPerSecond = s.tokensPerSecond === undefined ? tokensPerSecond : s.tokensPerSecond + EWMA_ALPHA * (tokensPerSecond - s.tokensPerSecond)
  }

  failed(nodeId: string): void {
    const s = this.#get(nodeId)
    s.failures = this.#decayed(s) + 1
    s.failuresAt = this.#now()
  }

  #decayed(s: Stats): number {
    if (s.failures === 0) return 0
    return s.failures * Math.pow(0.5, (this.#now() - s.failuresAt) / FAILURE_HALF_LIFE_MS)
  }

  observation(nodeId: string): WorkerObservation {
    const s = this.#stats.get(nodeId)
    if (s === undefined) return { latencyMs: 0, tokensPerSecond: undefined, recentFailures: 0, unreportedJobs: 0, runningJobs: 0 }
    let unreported = 0
    for (const at of s.running.values()) if (at >= s.lastRecordAt) unreported++
    return { latencyMs: s.latencyMs ?? 0, tokensPerSecond: s.tokensPerSecond, recentFailures: this.#decayed(s), unreportedJobs: unreported, runningJobs: s.running.size }
  }
}
