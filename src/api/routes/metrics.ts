import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

/** `GET /metrics`: the node's Prometheus registry in the text exposition format. */
export function metricsRoutes(registry: Registry) {
  return async function metricsPlugin(app: FastifyInstance): Promise<void> {
    app.get('/metrics', async (_request, reply) => {
      const text = await registry.metrics()
      return reply.type(registry.contentType).send(text)
    })
  }
}
