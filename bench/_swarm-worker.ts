/**
 * Worker node for `bench/swarm.ts`, in its own process: a real node (llama.cpp, HTTP, libp2p)
 * whose engine records when it emits each token (absolute ms: performance.timeOrigin + now(),
 * comparable across processes on one machine). Prints `{"url","p2p","model"}` when ready;
 * on each stdin line `dump` prints the emissions since the last dump as one JSON line.
 */
import { createInterface } from 'node:readline'
import { createNode } from '../src/node/index.js'
import { loadLlamaEngine, type LlamaEngineOptions } from '../src/runtime/llama-engine.js'
import type { Engine, GenerateOptions, GenerateRequest } from '../src/runtime/engine.js'

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error('usage: _swarm-worker.ts DATA_DIR')
let emitted: { text: string; at: number }[] = []

function timedEngine(engine: Engine): Engine {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'generate') {
        return (request: GenerateRequest, options: GenerateOptions = {}) =>
          target.generate(request, {
            ...options,
            onToken: (t) => {
              emitted.push({ text: t.text, at: performance.timeOrigin + performance.now() })
              options.onToken?.(t)
            },
          })
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

const node = createNode(
  { port: 0, dataDir, parallel: 1, threads: 1, logLevel: 'warn', p2p: { port: 0, mdns: false } },
  { loadEngine: async (o: LlamaEngineOptions) => timedEngine(await loadLlamaEngine(o)) },
)
await node.start()
process.stdout.write(`${JSON.stringify({ url: node.url, p2p: node.p2pAddrs.find((a) => !a.includes('/ws')), model: node.model?.name })}\n`)
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'dump') {
    process.stdout.write(`${JSON.stringify(emitted)}\n`)
    emitted = []
  }
})
const stop = (): void => {
  void node.stop().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
