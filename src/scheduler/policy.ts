/**
 * The scheduler's choice of worker, as a pure function over what the gateway knows of each
 * candidate: its advertised load (gossiped, soft state, possibly seconds old), the jobs this
 * gateway has sent it since, and what the gateway observed itself (latency, speed, failures).
 *
 * The cost of a candidate is the expected time until the job completes there:
 *
 *   perJob  = jobTokens / tokensPerSecond
 *   wait    = max(0, load + 1 − parallel) / parallel × perJob      (M/M/c-like queue estimate)
 *   cost    = (wait + perJob + latency) × (1 + FAILURE_PENALTY × recentFailures)
 *
 * where load = busy slots + queued jobs + jobs we sent that its record cannot show yet.
 * Local wins ties (no network hop, no third party sees the prompt).
 */

/** What the scheduler knows of one candidate worker for one model. */
export interface WorkerView {
  readonly nodeId: string
  /** This node's own engine. */
  readonly local: boolean
  /** Slots decoding concurrently (≥ 1 for any worker that serves). */
  readonly parallel: number
  /** Slots busy according to the worker's last record. */
  readonly busySlots: number
  readonly queueDepth: number
  /** Jobs this gateway sent after the worker's last record (not yet reflected in it). */
  readonly unreportedJobs: number
  /** Decode speed per slot: observed by this gateway when known, else advertised; 0 = unknown. */
  readonly tokensPerSecond: number
  /** Added latency (network round trip + stream setup), ms, observed; 0 for local. */
  readonly latencyMs: number
  /** Failures seen recently (decayed), ≥ 0. */
  readonly recentFailures: number
}

/** Speed assumed for a worker nobody has measured yet. */
export const DEFAULT_TOKENS_PER_SECOND = 20
/** Each recent failure multiplies the cost by this much more. */
export const FAILURE_PENALTY = 4

/** Expected completion time (ms) of a `jobTokens`-token job on `w`. */
export function expectedCostMs(w: WorkerView, jobTokens: number): number {
  const tps = w.tokensPerSecond > 0 ? w.tokensPerSecond : DEFAULT_TOKENS_PER_SECOND
  const perJob = (jobTokens / tps) * 1000
  const parallel = Math.max(1, w.parallel)
  const load = w.busySlots + w.queueDepth + w.unreportedJobs
  const wait = (Math.max(0, load + 1 - parallel) / parallel) * perJob
  return (wait + perJob + w.latencyMs) * (1 + FAILURE_PENALTY * w.recentFailures)
}

/**
 * The best candidate for a job of about `jobTokens` tokens, or `undefined` when there is none.
 * Ties go to the local worker, then to the one with fewer unreported jobs, then to the first.
 * O(n) in the number of candidates and allocation-free.
 */
export function chooseWorker<W extends WorkerView>(candidates: readonly W[], jobTokens: number): W | undefined {
  let best: W | undefined
  let bestCost = Infinity
  for (const w of candidates) {
    const cost = expectedCostMs(w, jobTokens)
    if (
      cost < bestCost ||
      (cost === bestCost && best !== undefined && ((w.local && !best.local) || (w.local === best.local && w.unreportedJobs < best.unreportedJobs)))
    ) {
      best = w
      bestCost = cost
    }
  }
  return best
}
