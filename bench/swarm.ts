/**
 * `npm run bench -- swarm`:
 *   1. Streaming through a gateway → worker over libp2p (loopback) vs the worker's own API, in
 *      the same run, same requests, alternating: added time-to-first-token (p50, target < 15 ms)
 *      and added per-token latency (p50 of client arrival − engine emission, target < 1 ms).
 *      The worker and the gateway are real nodes in their own processes (llama.cpp, HTTP,
 *      libp2p); the worker records each token's emission time (`_swarm-worker.ts`), the client
 *      here its arrival, both on the machine's clock (performance.timeOrigin + now()).
 *   2. The scheduler over 1,000 simulated workers and 10,000 jobs (`_swarm-sim.ts`): decision
 *      time (p99 < 1 ms) and mean queue wait vs an oracle running the same policy on true loads
 *      (within 10%), with stale-gossip-only and random baselines for scale.
 * Env: BENCH_SWARM_RUNS (default 20 streaming requests per path), BENCH_SWARM_TOKENS (64),
 * BENCH_SWARM_CPU_PROF=DIR (V8 CPU profiles of the worker and gateway processes, written at exit).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { simulate } from './_swarm-sim.js'

const runs = Number(process.env.BENCH_SWARM_RUNS ?? 20)
const maxTokens = Number(process.env.BENCH_SWARM_TOKENS ?? 64)
const root = fileURLToPath(new URL('..', import.meta.url))
const cpuProfDir = process.env.BENCH_SWARM_CPU_PROF
const profileFlags = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`]

const now = (): number => performance.timeOrigin + performance.now()

type Lines = AsyncIterator<string>

/** Reads the next stdout line of a child (bounded wait); readline's iterator buffers lines. */
async function nextLine(lines: Lines, what: string, ms = 180_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })
  try {
    const r = await Promise.race([lines.next(), timeout])
    if (r.done === true) throw new Error(`${what} exited`)
    return r.value
  } finally {
    clearTimeout(timer)
  }
}

/** Engine emissions since the last call, from the worker process. */
let dumpEmissions: () => Promise<{ text: string; at: number }[]> = async () => []

interface StreamTiming {
  readonly ttftMs: number
  /** Client arrival − engine emission, per token with text. */
  readonly perTokenMs: number[]
  readonly text: string
}

async function streamOnce(url: string, model: string, seed: number): Promise<StreamTiming> {
  await dumpEmissions()
  const sent = now()
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: 'In the beginning', max_tokens: maxTokens, seed, temperature: 0.8, stream: true }),
  })
  if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`)
  const arrivals: { text: string; at: number }[] = []
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = now()
    buffer += decoder.decode(chunk, { stream: true })
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      const data = event.split('\n').find((l) => l.startsWith('data: '))?.slice(6)
      if (data === undefined || data === '[DONE]') continue
      const text = (JSON.parse(data) as { choices?: { text?: string }[] }).choices?.[0]?.text ?? ''
      if (text !== '') arrivals.push({ text, at })
    }
  }
  const produced = (await dumpEmissions()).filter((e) => e.text !== '')
  const perTokenMs: number[] = []
  // One SSE chunk per emitted token with text (no stop strings): match them in order.
  if (produced.length === arrivals.length) for (let i = 0; i < arrivals.length; i++) perTokenMs.push(arrivals[i]!.at - produced[i]!.at)
  return { ttftMs: (arrivals[0]?.at ?? now()) - sent, perTokenMs, text: arrivals.map((a) => a.text).join('') }
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d

async function streaming(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'commons-bench-swarm-'))
  const children: ChildProcess[] = []
  const node = (args: string[]): { child: ChildProcess; lines: Lines } => {
    const child = spawn(process.execPath, [...profileFlags, '--import', './src/polyfill.js', '--import', 'tsx', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(child)
    return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() }
  }
  try {
    const w = node(['bench/_swarm-worker.ts', join(dir, 'worker')])
    const ready = JSON.parse(await nextLine(w.lines, 'the worker')) as { url: string; p2p: string; model: string }
    dumpEmissions = async () => {
      w.child.stdin!.write('dump\n')
      return JSON.parse(await nextLine(w.lines, 'emissions', 30_000)) as { text: string; at: number }[]
    }
    const g = node(['bin/commons.js', 'start', '--port', '0', '--data-dir', join(dir, 'gateway'), '--no-worker', '--no-mdns', '--bootstrap', ready.p2p, '--log-level', 'warn'])
    let gatewayUrl: string | undefined
    while (gatewayUrl === undefined) {
      const line = await nextLine(g.lines, 'the gateway')
      if (line.startsWith('API: ')) gatewayUrl = line.slice(5).replace(/\/v1$/, '')
    }
    const worker = { url: ready.url }
    const gateway = { url: gatewayUrl }
    const model = ready.model
    // Wait (bounded) until the gateway has the worker's capability record.
    for (let i = 0; i < 200; i++) {
      const peers = (await (await fetch(`${gateway.url}/api/peers`)).json()) as { workers: unknown[] }
      if (peers.workers.length > 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    // Warm both paths (connection, stream setup, engine caches).
    await streamOnce(worker.url, model, 0)
    await streamOnce(gateway.url, model, 0)
    const direct: StreamTiming[] = []
    const viaGateway: StreamTiming[] = []
    for (let i = 1; i <= runs; i++) {
      // Alternate which path goes first, so drift on this shared machine hits both alike.
      if (i % 2 === 0) {
        direct.push(await streamOnce(worker.url, model, i))
        viaGateway.push(await streamOnce(gateway.url, model, i))
      } else {
        viaGateway.push(await streamOnce(gateway.url, model, i))
        direct.push(await streamOnce(worker.url, model, i))
      }
      if (direct.at(-1)!.text !== viaGateway.at(-1)!.text) throw new Error(`seed ${i}: gateway text differs from the worker's`)
    }
    const ttftDirect = p50(direct.map((d) => d.ttftMs))
    const ttftGateway = p50(viaGateway.map((d) => d.ttftMs))
    const tokDirect = p50(direct.flatMap((d) => d.perTokenMs))
    const tokGateway = p50(viaGateway.flatMap((d) => d.perTokenMs))
    return {
      runs,
      maxTokens,
      tokensMatched: { direct: direct.reduce((s, d) => s + d.perTokenMs.length, 0), gateway: viaGateway.reduce((s, d) => s + d.perTokenMs.length, 0) },
      ttftP50Ms: { direct: round(ttftDirect), gateway: round(ttftGateway), added: round(ttftGateway - ttftDirect) },
      perTokenLatencyP50Ms: { direct: round(tokDirect), gateway: round(tokGateway), added: round(tokGateway - tokDirect) },
      pass: { ttftAddedUnder15ms: ttftGateway - ttftDirect < 15, perTokenAddedUnder1ms: tokGateway - tokDirect < 1 },
    }
  } finally {
    dumpEmissions = async () => []
    for (const c of children) c.kill('SIGTERM')
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))))
    rmSync(dir, { recursive: true, force: true })
  }
}

function scheduler(): Record<string, unknown> {
  const options = { workers: 1000, jobs: 10_000, utilization: 0.85, recordMs: 2000, seed: 1 }
  const ours = simulate(options, 'scheduler')
  const oracle = simulate(options, 'oracle')
  const staleOnly = simulate(options, 'stale-only')
  const random = simulate(options, 'random')
  return {
    ...options,
    decisionMs: { p50: round(ours.p50DecisionMs, 4), p99: round(ours.p99DecisionMs, 4), p99Cpu: round(ours.p99DecisionCpuMs, 4) },
    meanQueueWaitMs: { scheduler: round(ours.meanWaitMs, 1), oracle: round(oracle.meanWaitMs, 1), staleGossipOnly: round(staleOnly.meanWaitMs, 1), random: round(random.meanWaitMs, 1) },
    meanCompletionMs: { scheduler: round(ours.meanCompletionMs, 1), oracle: round(oracle.meanCompletionMs, 1), staleGossipOnly: round(staleOnly.meanCompletionMs, 1), random: round(random.meanCompletionMs, 1) },
    waitVsOracle: round(ours.meanWaitMs / oracle.meanWaitMs, 3),
    pass: { decisionP99CpuUnder1ms: ours.p99DecisionCpuMs < 1, decisionP99WallUnder1ms: ours.p99DecisionMs < 1, waitWithin10PercentOfOracle: ours.meanWaitMs <= oracle.meanWaitMs * 1.1 },
  }
}

export async function run(): Promise<Record<string, unknown>> {
  process.stderr.write('swarm bench: streaming gateway→worker vs worker direct…\n')
  const stream = await streaming()
  process.stderr.write('swarm bench: scheduler simulation (1,000 workers, 10,000 jobs)…\n')
  return { streaming: stream, scheduler: scheduler() }
}
