/**
 * Discrete-event simulation of one gateway scheduling jobs over many workers, for
 * `bench/swarm.ts`. Workers have c slots and a decode speed; each has a FIFO queue. The
 * gateway sees each worker only through its capability record (refreshed every `recordMs`, so
 * up to that old) plus the jobs it sent since — exactly what `SwarmInferenceService` feeds
 * `chooseWorker`. The oracle runs the same policy with every worker's true load at decision time
 * (no gossip delay), so the gap is the price of soft state. We compare their mean queue wait.
 */
import { chooseWorker, type WorkerView } from '../src/scheduler/policy.js'
import { seededRandom as rng } from '../test/helpers/seeded-random.js'

export interface SimOptions {
  readonly workers: number
  readonly jobs: number
  /** Offered load as a fraction of total capacity. */
  readonly utilization: number
  readonly recordMs: number
  readonly seed: number
}

export interface SimResult {
  readonly meanWaitMs: number
  /** Queue wait + service time. */
  readonly meanCompletionMs: number
  /** Decision CPU time (process.cpuUsage, so time preempted by other processes is excluded). */
  readonly p99DecisionCpuMs: number
  readonly p99DecisionMs: number
  readonly p50DecisionMs: number
}


interface SimWorker {
  readonly id: string
  readonly parallel: number
  readonly tps: number
  /** End times of jobs in slots. */
  running: number[]
  /** Queued jobs' service times (ms), FIFO. */
  queue: number[]
  // Last published record.
  recBusy: number
  recQueue: number
  recAt: number
  readonly phase: number
  /** Dispatch times of this gateway's jobs still waiting or running there. */
  mine: number[]
  mineEnds: number[]
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

/**
 * `scheduler`: our policy on gossip + own bookkeeping; `oracle`: our policy on true loads;
 * `stale-only`: our policy on gossip alone (no count of jobs sent since the record); `random`.
 */
export type SimPolicy = 'scheduler' | 'oracle' | 'stale-only' | 'random'

export function simulate(options: SimOptions, policy: SimPolicy): SimResult {
  const rand = rng(options.seed)
  const workers: SimWorker[] = []
  let capacityJobsPerMs = 0
  const meanTokens = 144 // job lengths uniform in [32, 256]
  for (let i = 0; i < options.workers; i++) {
    const parallel = [1, 2, 4, 8][Math.floor(rand() * 4)]!
    const tps = 10 + rand() * 90
    capacityJobsPerMs += (parallel * tps) / meanTokens / 1000
    workers.push({ id: `w${i}`, parallel, tps, running: [], queue: [], recBusy: 0, recQueue: 0, recAt: 0, phase: rand() * options.recordMs, mine: [], mineEnds: [] })
  }
  const rate = capacityJobsPerMs * options.utilization
  let now = 0
  let totalWait = 0
  let totalService = 0
  const decisions: number[] = []
  const decisionsCpu: number[] = []

  // Advance a worker's true state to time t: finish jobs, start queued ones (FIFO).
  const advance = (w: SimWorker, t: number): void => {
    for (;;) {
      let next = Infinity
      let idx = -1
      for (let k = 0; k < w.running.length; k++) if (w.running[k]! < next) { next = w.running[k]!; idx = k }
      if (idx < 0 || next > t) break
      w.running.splice(idx, 1)
      const q = w.queue.shift()
      if (q !== undefined) w.running.push(next + q)
    }
  }
  // The record the worker last published at or before t (records are periodic per worker).
  const refreshRecord = (w: SimWorker, t: number): void => {
    const last = t < w.phase ? -Infinity : w.phase + Math.floor((t - w.phase) / options.recordMs) * options.recordMs
    if (last > w.recAt || (w.recAt === 0 && last >= 0)) {
      advance(w, last)
      w.recBusy = w.running.length
      w.recQueue = w.queue.length
      w.recAt = last
    }
  }
  // Jobs (by this gateway) still in the system at t, per the gateway's own bookkeeping: it learns a
  // job ended when the stream ends, so it knows exactly which of its jobs are done.
  type MutableView = { -readonly [K in keyof WorkerView]: WorkerView[K] }
  const views: MutableView[] = workers.map((w) => ({ nodeId: w.id, local: false, parallel: w.parallel, busySlots: 0, queueDepth: 0, unreportedJobs: 0, tokensPerSecond: w.tps, latencyMs: 0, recentFailures: 0 }))
  for (let j = 0; j < options.jobs; j++) {
    now += -Math.log(1 - rand()) / rate
    const tokens = 32 + Math.floor(rand() * 225)
    let chosen: SimWorker
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    for (let i = 0; i < workers.length; i++) {
      const w = workers[i]!
      // The table of views is kept between decisions (as a gateway keeps its peer table); a
      // decision only refreshes the fields that change, so it allocates nothing.
      const v = views[i]!
      if (policy === 'oracle') {
        // Perfect, instantaneous knowledge of the true load.
        advance(w, now)
        v.busySlots = w.running.length
        v.queueDepth = w.queue.length
      } else {
        // What the gateway knows: the last record + its own jobs sent since and not finished.
        let unreported = 0
        if (policy !== 'stale-only') for (let k = 0; k < w.mine.length; k++) if (w.mine[k]! >= w.recAt && w.mineEnds[k]! > now) unreported++
        v.busySlots = w.recBusy
        v.queueDepth = w.recQueue
        v.unreportedJobs = unreported
      }
    }
    const pick = policy === 'random' ? views[Math.floor(rand() * views.length)]! : chooseWorker(views, 128)!
    if (policy === 'scheduler') {
      const cpu = process.cpuUsage(c0)
      decisions.push(performance.now() - t0)
      decisionsCpu.push((cpu.user + cpu.system) / 1000)
    }
    chosen = workers[Number(pick.nodeId.slice(1))]!
    // Run the job on the chosen worker (true dynamics).
    advance(chosen, now)
    const serviceMs = (tokens / chosen.tps) * 1000
    let startAt: number
    if (chosen.running.length < chosen.parallel && chosen.queue.length === 0) {
      startAt = now
      chosen.running.push(now + serviceMs)
    } else {
      // FIFO: compute when it will start by simulating the queue ahead.
      const slots = [...chosen.running].sort((a, b) => a - b).slice(0, chosen.parallel)
      for (const q of chosen.queue) {
        slots.sort((a, b) => a - b)
        slots[0] = Math.max(slots[0]!, now) + q
      }
      slots.sort((a, b) => a - b)
      startAt = Math.max(now, slots[0]!)
      chosen.queue.push(serviceMs)
    }
    totalWait += startAt - now
    totalService += serviceMs
    // The gateway's in-flight list: drop jobs that ended (it sees their streams end).
    for (let k = chosen.mine.length - 1; k >= 0; k--) {
      if (chosen.mineEnds[k]! <= now) {
        chosen.mine.splice(k, 1)
        chosen.mineEnds.splice(k, 1)
      }
    }
    chosen.mine.push(now)
    chosen.mineEnds.push(startAt + serviceMs)
    // Records published since the last decision (lazily, per worker, when next looked at).
    if (policy === 'scheduler' || policy === 'stale-only') for (const w of workers) refreshRecord(w, now)
  }
  decisions.sort((a, b) => a - b)
  decisionsCpu.sort((a, b) => a - b)
  return {
    meanWaitMs: totalWait / options.jobs,
    meanCompletionMs: (totalWait + totalService) / options.jobs,
    p99DecisionCpuMs: decisionsCpu.length > 0 ? percentile(decisionsCpu, 0.99) : 0,
    p99DecisionMs: decisions.length > 0 ? percentile(decisions, 0.99) : 0,
    p50DecisionMs: decisions.length > 0 ? percentile(decisions, 0.5) : 0,
  }
}
