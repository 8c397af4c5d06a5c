import { z } from 'zod'
import { InvalidConfigError } from './errors.js'

/**
 * A node's configuration, from CLI flags (and later `config.json` in the data dir). Every field
 * is validated here once; the rest of the node reads typed values.
 */
export const NodeConfigSchema = z
  .object({
    /** Data dir; default `COMMONS_HOME` or `~/.commons` (see `datadir.ts`). */
    dataDir: z.string().min(1).optional(),
    /** 127.0.0.1 by default: exposing a node to the network is an explicit choice. */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests). */
    port: z.number().int().min(0).max(65535).default(8080),
    /** A GGUF file path or the name of a local model; default: the built-in model. */
    model: z.string().min(1).optional(),
    /** Requests decoded together (llama.cpp sequences). */
    parallel: z.number().int().min(1).max(64).default(4),
    /** Requests that may wait for a slot; default 4 × parallel. */
    maxQueue: z.number().int().min(0).max(10_000).optional(),
    /** Tokens of context per slot; default from the model (capped by the engine). */
    contextSize: z.number().int().min(16).max(1 << 20).optional(),
    /** CPU threads for decoding; default: the engine's choice. */
    threads: z.number().int().min(1).max(1024).optional(),
    /** Allowed CORS origins; empty = CORS off. */
    cors: z.array(z.string().min(1)).default([]),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Run models, for this node's API and for other gateways (false: `--no-worker`, a pure gateway). */
    worker: z.boolean().default(true),
    /** Join the swarm over libp2p (see `src/node/swarm.ts`); absent: a standalone node. */
    p2p: z
      .object({
        /** TCP port (WebSockets on port + 1); 0 picks free ones. */
        port: z.number().int().min(0).max(65534).default(0),
        /** Multiaddrs of peers to dial at start and keep connected. */
        bootstrap: z.array(z.string().min(1)).default([]),
        /** LAN discovery; default on unless the node listens on loopback. */
        mdns: z.boolean().optional(),
        /** A remote worker silent this long mid-job is failed over (ms). */
        stallTimeoutMs: z.number().int().min(100).max(600_000).optional(),
        /** Listen to workers' capability gossip (default true); false: find workers through the DHT only. */
        capabilityGossip: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()

export type NodeConfig = z.output<typeof NodeConfigSchema>
export type NodeConfigInput = z.input<typeof NodeConfigSchema>

/** Validates a config; the first problem becomes an `InvalidConfigError` naming the field. */
export function parseNodeConfig(input: NodeConfigInput): NodeConfig {
  const result = NodeConfigSchema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const param = issue?.path.join('.') ?? null
  throw new InvalidConfigError(`invalid node config${param ? ` '${param}'` : ''}: ${issue?.message ?? 'invalid'}`, param)
}
