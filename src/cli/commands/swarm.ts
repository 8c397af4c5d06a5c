import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { CommandFailedError, intFlag } from '../exit.js'
import { untilSignal } from '../signals.js'

/**
 * `commons swarm --nodes N`: N real node processes on 127.0.0.1 that find each other (all
 * bootstrap to node 0; gossip spreads the rest), printed with their API URLs, all stopped on
 * Ctrl-C/SIGTERM. `--demo` makes node 0 a pure gateway and sends a few requests through it,
 * showing which worker served each. `startLocalSwarm` is the same thing for tests and benches.
 */

const BIN = fileURLToPath(new URL('../../../bin/commons.js', import.meta.url))

export interface LocalSwarmOptions {
  readonly nodes: number
  /** API ports base+i, libp2p ports base+1000+2i (TCP) and +1 (WebSockets); 0 picks free ports. */
  readonly basePort?: number
  /** Node 0 runs no model (`--no-worker`). */
  readonly gatewayOnly?: boolean
  /** Extra `commons start` flags for every node (e.g. `--stall-timeout 1000`). */
  readonly nodeArgs?: readonly string[]
  /** Where data dirs go (default: a new temp dir, removed at stop). */
  readonly dataRoot?: string
  /** Give up on a node that has not printed its URLs by then (default 180 s). */
  readonly startTimeoutMs?: number
}

export interface SwarmMember {
  readonly index: number
  readonly url: string
  readonly nodeId: string
  readonly p2p: string
  readonly worker: boolean
  readonly dataDir: string
  readonly process: ChildProcess
}

export interface LocalSwarm {
  readonly members: readonly SwarmMember[]
  /** SIGTERM to every node (SIGKILL after 10 s), then removes the temp data. */
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

async function freePortPair(): Promise<number> {
  // libp2p wants port p (TCP) and p+1 (WebSockets); retry until both are free.
  for (let i = 0; i < 50; i++) {
    const p = await freePort()
    if (p >= 65535) continue
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer()
      srv.once('error', () => resolve(false))
      srv.listen(p + 1, '127.0.0.1', () => srv.close(() => resolve(true)))
    })
    if (ok) return p
  }
  throw new CommandFailedError('could not find free ports for libp2p')
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** Starts the swarm's node processes and resolves once each has printed its API and P2P addresses. */
export async function startLocalSwarm(options: LocalSwarmOptions): Promise<LocalSwarm> {
  const ownRoot = options.dataRoot === undefined
  const root = options.dataRoot ?? mkdtempSync(join(tmpdir(), 'commons-swarm-'))
  const children: ChildProcess[] = []
  const stop = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    await Promise.all(children.map(async (c) => {
      if (!(await waitExit(c, 10_000))) {
        c.kill('SIGKILL')
        await waitExit(c, 2_000)
      }
    }))
    if (ownRoot) rmSync(root, { recursive: true, force: true })
  }
  try {
    const base = options.basePort ?? 0
    const ports = await Promise.all(Array.from({ length: options.nodes }, async (_, i) => ({
      api: base === 0 ? await freePort() : base + i,
      p2p: base === 0 ? await freePortPair() : base + 1000 + 2 * i,
    })))
    const bootstrap = `/ip4/127.0.0.1/tcp/${ports[0]!.p2p}`
    const members = await Promise.all(ports.map(async (p, index) => {
      const dataDir = join(root, `node${index}`)
      const worker = !(index === 0 && options.gatewayOnly === true)
      const args = [
        BIN, 'start', '--host', '127.0.0.1', '--port', String(p.api), '--p2p-port', String(p.p2p), '--data-dir', dataDir, '--no-mdns',
        ...(index === 0 ? [] : ['--bootstrap', bootstrap]),
        ...(worker ? [] : ['--no-worker']),
        ...(options.nodeArgs ?? []),
      ]
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } })
      children.push(child)
      child.stderr!.pipe(createWriteStream(join(dataDir, 'node.log')))
      return await new Promise<SwarmMember>((resolve, reject) => {
        let url: string | undefined
        let nodeId: string | undefined
        let p2p: string | undefined
        const timer = setTimeout(() => reject(new CommandFailedError(`node ${index} did not start within ${(options.startTimeoutMs ?? 180_000) / 1000} s (log: ${join(dataDir, 'node.log')})`)), options.startTimeoutMs ?? 180_000)
        child.once('exit', (code) => {
          clearTimeout(timer)
          // Quote the end of its log: the directory is removed when the swarm stops.
          setTimeout(() => {
            const logPath = join(dataDir, 'node.log')
            const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(-1500) : ''
            reject(new CommandFailedError(`node ${index} exited with code ${code} while starting (log: ${logPath})${tail ? `: ${tail}` : ''}`))
          }, 200)
        })
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const id = /^Commons node ([0-9a-f]{64})/.exec(line)
          if (id !== null) nodeId = id[1]
          if (line.startsWith('API: ')) url = line.slice(5).replace(/\/v1$/, '')
          if (line.startsWith('P2P: ') && !line.includes('/ws/') && p2p === undefined) p2p = line.slice(5)
          if (url !== undefined && nodeId !== undefined && p2p !== undefined) {
            clearTimeout(timer)
            child.removeAllListeners('exit')
            resolve({ index, url, nodeId, p2p, worker, dataDir, process: child })
          }
        })
      })
    }))
    return { members, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Polls `GET /api/peers` of `url` until `workers` workers (self included) are listed. */
export async function waitForWorkers(url: string, workers: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const res = await fetch(`${url}/api/peers`)
      if (res.ok) {
        const body = (await res.json()) as { workers: unknown[] }
        if (body.workers.length >= workers) return
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new CommandFailedError(`${url} did not see ${workers} workers within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

interface SwarmCliOptions {
  nodes: number
  basePort: number
  demo: boolean
  gateway: boolean
  model?: string
  requests: number
}

async function runDemo(swarm: LocalSwarm, requests: number): Promise<void> {
  const gateway = swarm.members[0]!
  const workers = swarm.members.filter((m) => m.worker)
  process.stdout.write(`\nDemo: ${requests} requests through the gateway ${gateway.url} (node 0, no model of its own)\n`)
  await waitForWorkers(gateway.url, workers.length)
  const models = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: { id: string }[] }
  const model = models.data[0]?.id
  if (model === undefined) throw new CommandFailedError('the gateway lists no model')
  const names = new Map(swarm.members.map((m) => [m.nodeId, `node ${m.index}`]))
  await Promise.all(Array.from({ length: requests }, async (_, i) => {
    const started = performance.now()
    const res = await fetch(`${gateway.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, prompt: 'In the beginning', max_tokens: 24, seed: i + 1, temperature: 0.8 }),
    })
    const body = (await res.json()) as { choices?: { text: string }[]; commons?: { served_by: string; receipt_id?: string }; error?: { message: string } }
    const ms = Math.round(performance.now() - started)
    if (!res.ok || body.commons === undefined) {
      process.stdout.write(`  request ${i + 1}: HTTP ${res.status} ${body.error?.message ?? ''}\n`)
      return
    }
    const who = names.get(body.commons.served_by) ?? body.commons.served_by.slice(0, 12)
    const text = (body.choices?.[0]?.text ?? '').replace(/\s+/g, ' ').trim()
    process.stdout.write(`  request ${i + 1} (seed ${i + 1}) → served by ${who} in ${ms} ms, receipt ${body.commons.receipt_id?.slice(0, 12) ?? '-'}: "${text.slice(0, 60)}"\n`)
  }))
}

export function registerSwarm(program: Command): void {
  program
    .command('swarm')
    .description('start N node processes on 127.0.0.1 that form one swarm; Ctrl-C stops them all')
    .requiredOption('--nodes <n>', 'number of nodes', intFlag('--nodes', 1, 32))
    .option('--base-port <port>', 'API ports P..P+N-1, libp2p P+1000+2i (0 picks free ports)', intFlag('--base-port', 0, 60_000), 0)
    .option('--gateway', 'node 0 runs no model: a pure gateway', false)
    .option('--model <file|name>', 'model for every worker (default: the built-in model)')
    .option('--demo', 'node 0 is a gateway; send requests through it and show which worker served each', false)
    .option('--requests <n>', 'requests sent by --demo', intFlag('--requests', 1, 100), 6)
    .action(async (opts: SwarmCliOptions) => {
      if (opts.demo && opts.nodes < 2) throw new CommandFailedError('--demo needs at least 2 nodes (a gateway and a worker)', 2)
      process.stdout.write(`Starting ${opts.nodes} nodes…\n`)
      const swarm = await startLocalSwarm({
        nodes: opts.nodes,
        basePort: opts.basePort,
        gatewayOnly: opts.demo || opts.gateway,
        ...(opts.model === undefined ? {} : { nodeArgs: ['--model', opts.model] }),
      })
      let stopping: Promise<void> | undefined
      const shutdown = (): Promise<void> => (stopping ??= (async () => {
        process.stdout.write('Stopping all nodes…\n')
        await swarm.stop()
        process.stdout.write('Stopped.\n')
      })())
      try {
        for (const m of swarm.members) {
          process.stdout.write(`node ${m.index}: ${m.url}/v1  ${m.worker ? 'worker' : 'gateway'}  ${m.nodeId.slice(0, 16)}…  ${m.p2p}\n`)
        }
        if (opts.demo) {
          await runDemo(swarm, opts.requests)
          process.stdout.write('\nThe swarm keeps running: try the gateway with any OpenAI client. Ctrl-C stops all nodes.\n')
        } else {
          process.stdout.write('Ctrl-C stops all nodes.\n')
        }
        // A node that dies on its own ends the swarm too: its peers would be left half-working.
        await untilSignal((done) => {
          for (const m of swarm.members) m.process.once('exit', done)
        })
      } finally {
        await shutdown()
      }
    })
}
