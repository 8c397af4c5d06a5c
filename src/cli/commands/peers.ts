import type { Command } from 'commander'
import { CommandFailedError } from '../exit.js'
import type { PeersReport } from '../../scheduler/swarm-node.js'

interface PeersOptions {
  url: string
  json: boolean
}

/** `commons peers [--json] [--url URL]`: the local node's view of the swarm, from `GET /api/peers`. */
export function registerPeers(program: Command): void {
  program
    .command('peers')
    .description('list the workers this node sees in the swarm, with their capabilities')
    .option('--url <url>', 'API of the node to ask', process.env.COMMONS_URL ?? 'http://127.0.0.1:8080')
    .option('--json', 'print the raw JSON report', false)
    .action(async (opts: PeersOptions) => {
      let res: Response
      try {
        res = await fetch(`${opts.url.replace(/\/+$/, '').replace(/\/v1$/, '')}/api/peers`, { signal: AbortSignal.timeout(10_000) })
      } catch (err) {
        throw new CommandFailedError(`no node answers at ${opts.url}: ${(err as Error).message}`)
      }
      const body = (await res.json().catch(() => ({}))) as PeersReport & { error?: { message: string } }
      if (!res.ok) throw new CommandFailedError(`${opts.url}: ${body.error?.message ?? `HTTP ${res.status}`}`)
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
        return
      }
      process.stdout.write(`node ${body.nodeId.slice(0, 16)}…  peer ${body.peerId}  connections ${body.connections}\n`)
      if (body.workers.length === 0) {
        process.stdout.write('no workers seen yet\n')
        return
      }
      const rows = body.workers.map((w) => [
        `${w.nodeId.slice(0, 12)}${w.self ? ' (self)' : ''}`,
        w.connected ? 'yes' : 'no',
        w.models.map((m) => `${m.name}@${m.sha256.slice(0, 8)}`).join(','),
        `${w.freeSlots}/${w.parallel}`,
        String(w.queueDepth),
        w.tokensPerSecond.toFixed(1),
        `${(w.ageMs / 1000).toFixed(1)}s`,
        w.version,
      ])
      const header = ['WORKER', 'CONN', 'MODELS', 'FREE', 'QUEUE', 'TOK/S', 'AGE', 'VERSION']
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
      for (const r of [header, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
    })
}
