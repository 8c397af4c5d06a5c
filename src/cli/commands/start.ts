import type { Command } from 'commander'
import { intFlag, UsageError } from '../exit.js'
import { untilSignal } from '../signals.js'

interface StartOptions {
  port: number
  host: string
  dataDir?: string
  model?: string
  parallel: number
  contextSize?: number
  maxQueue?: number
  threads?: number
  cors: string[]
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  p2p: boolean
  p2pPort: number
  bootstrap: string[]
  mdns?: boolean
  worker: boolean
  stallTimeout?: number
  capabilityGossip?: boolean
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * `commons start`: runs a node until SIGINT/SIGTERM. Prints the API and web URLs on stdout (logs
 * are JSON lines on stderr), so scripts can read the URL from the first lines.
 */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run a node: load the model and serve the OpenAI-compatible API and the web UI')
    .option('--port <port>', 'HTTP port (0 picks a free one)', intFlag('--port', 0, 65535), 8080)
    .option('--host <host>', 'HTTP address to bind', '127.0.0.1')
    .option('--data-dir <dir>', 'data directory (default $COMMONS_HOME or ~/.commons)')
    .option('--model <file|name>', 'GGUF file or local model name (default: the built-in model)')
    .option('--parallel <n>', 'requests decoded together', intFlag('--parallel', 1, 64), 4)
    .option('--context-size <n>', 'context tokens per slot (default: from the model)', intFlag('--context-size', 16, 1 << 20))
    .option('--max-queue <n>', 'requests that may wait for a slot (default 4 × parallel)', intFlag('--max-queue', 0, 10_000))
    .option('--threads <n>', 'CPU threads for decoding', intFlag('--threads', 1, 1024))
    .option('--cors <origin>', 'allow browser requests from ORIGIN (repeatable, * for any; default off)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--log-level <level>', `log level (${LOG_LEVELS.join(', ')})`, (v: string) => {
      if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
      return v
    }, 'info')
    .option('--p2p-port <port>', 'libp2p TCP port (WebSockets on the next one; 0 picks free ones)', intFlag('--p2p-port', 0, 65534), 0)
    .option('--bootstrap <multiaddr...>', 'peers to join (repeatable), e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3…', (v: string, prev: string[]) => [...prev, v], [])
    .option('--mdns', 'discover peers on the LAN by multicast DNS (default: on unless --host is loopback)')
    .option('--no-mdns', 'do not use multicast DNS discovery')
    .option('--no-worker', 'run no model here: a gateway that routes every job to the swarm')
    .option('--no-p2p', 'do not join a swarm (standalone node, no libp2p)')
    .option('--no-capability-gossip', 'do not listen to capability gossip: find workers through the DHT only')
    .option('--stall-timeout <ms>', 'fail a remote job over when its worker is silent this long', intFlag('--stall-timeout', 100, 600_000))
    .action(async (opts: StartOptions) => {
      // Imported here so `--help` and usage errors do not pay for loading llama.cpp and fastify.
      const { createNode } = await import('../../node/node.js')
      const node = createNode({
        host: opts.host,
        port: opts.port,
        parallel: opts.parallel,
        cors: opts.cors,
        logLevel: opts.logLevel,
        ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
        ...(opts.model === undefined ? {} : { model: opts.model }),
        ...(opts.contextSize === undefined ? {} : { contextSize: opts.contextSize }),
        ...(opts.maxQueue === undefined ? {} : { maxQueue: opts.maxQueue }),
        ...(opts.threads === undefined ? {} : { threads: opts.threads }),
        worker: opts.worker,
        ...(opts.p2p
          ? {
              p2p: {
                port: opts.p2pPort,
                bootstrap: opts.bootstrap,
                ...(opts.mdns === undefined ? {} : { mdns: opts.mdns }),
                ...(opts.stallTimeout === undefined ? {} : { stallTimeoutMs: opts.stallTimeout }),
                ...(opts.capabilityGossip === false ? { capabilityGossip: false } : {}),
              },
            }
          : {}),
      })
      await node.start()
      const url = node.url!
      process.stdout.write(
        `Commons node ${node.nodeId} serving ${node.model?.name ?? '(no worker: gateway only)'}\n` + `API: ${url}/v1\n` + `Web: ${url}/\n` +
          node.p2pAddrs.map((a) => `P2P: ${a}\n`).join(''),
      )
      await untilSignal()
      await node.stop()
    })
}
