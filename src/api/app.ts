import cors from '@fastify/cors'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { pino, type Logger } from 'pino'
import { Registry } from 'prom-client'
import type { InferenceService } from '../runtime/service.js'
import { installErrorHandler } from './error-handler.js'
import { createApiMetrics, type ApiMetrics, type ModelLoad } from './metrics.js'
import { chatRoutes } from './routes/chat.js'
import { completionRoutes } from './routes/completions.js'
import { healthRoutes } from './routes/health.js'
import { metricsRoutes } from './routes/metrics.js'
import { modelRoutes } from './routes/models.js'

/** Largest accepted request body: 1 MiB (issue 3); larger bodies get 413. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024

/**
 * A route plugin added by another part of the node (governance `/api/gov/*`, `/api/log/*`,
 * `/api/peers`, the web UI at `/`). It closes over whatever it needs; errors it throws are
 * rendered by the API's one error handler, so a `CommonsError` with a status is all it takes.
 */
export type ApiPlugin = FastifyPluginAsync | { readonly plugin: FastifyPluginAsync; readonly prefix?: string }

export interface ApiOptions {
  /** Where jobs run: local engines today, the swarm scheduler later. */
  readonly service: InferenceService
  /** Defaults to a silent logger. */
  readonly logger?: Logger
  /** The node's own Prometheus registry (never prom-client's global one); created when absent. */
  readonly metricsRegistry?: Registry
  /** Load of each served model, read when `/metrics` is scraped (queue depth, active slots). */
  readonly loads?: () => readonly ModelLoad[]
  /** Allowed CORS origin(s) (`*` for any); CORS is off when absent or empty. */
  readonly cors?: string | readonly string[]
  /** This node's id, reported by `/healthz`. */
  readonly nodeId?: string
  readonly bodyLimit?: number
  /** Extra route plugins, registered after the built-in routes, in order. */
  readonly plugins?: readonly ApiPlugin[]
}

/** The built app plus handles tests and the node use. */
export interface Api {
  readonly app: FastifyInstance
  readonly metrics: ApiMetrics
}

/**
 * Builds the HTTP API: OpenAI-compatible `/v1` routes, `/healthz`, `/metrics`, and the plugins
 * given. Nothing listens yet: the node calls `app.listen`, tests call `app.inject`.
 */
export function buildApi(options: ApiOptions): Api {
  const logger = options.logger ?? pino({ level: 'silent' })
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const registry = options.metricsRegistry ?? new Registry()
  const metrics = createApiMetrics(registry, options.loads)
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    // We log each request ourselves (debug level) in onResponse, with the route and status.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // Generation can take minutes; do not cut long streams.
    requestTimeout: 0,
    // close() destroys open connections too: open streams then see 'close' and abort their
    // generation, so a stopping node never waits for a 2,000-token stream to finish.
    forceCloseConnections: true,
  })
  installErrorHandler(app, logger, bodyLimit)

  app.addHook('onResponse', async (request, reply) => {
    // Route pattern, not raw URL, so label cardinality stays bounded.
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) })
    logger.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request')
  })

  const origins = options.cors === undefined ? [] : typeof options.cors === 'string' ? [options.cors] : [...options.cors]
  if (origins.length > 0) {
    void app.register(cors, { origin: origins.includes('*') ? '*' : origins })
  }

  const ctx = { service: options.service, metrics, logger, bodyLimit }
  const startedAt = Math.floor(Date.now() / 1000)
  void app.register(healthRoutes(options.service, options.nodeId))
  void app.register(metricsRoutes(registry))
  void app.register(modelRoutes(options.service, startedAt))
  void app.register(chatRoutes(ctx))
  void app.register(completionRoutes(ctx))
  for (const entry of options.plugins ?? []) {
    if (typeof entry === 'function') void app.register(entry)
    else void app.register(entry.plugin, entry.prefix === undefined ? {} : { prefix: entry.prefix })
  }
  return { app, metrics }
}
