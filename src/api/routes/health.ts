import type { FastifyInstance } from 'fastify'
import type { InferenceService } from '../../runtime/service.js'

/** `GET /healthz`: 200 with the served models once the node can answer requests. */
export function healthRoutes(service: InferenceService, nodeId: string | undefined) {
  return async function healthPlugin(app: FastifyInstance): Promise<void> {
    app.get('/healthz', async () => ({
      status: 'ok',
      node_id: nodeId ?? null,
      models: service.listModels().map((m) => m.info.name),
    }))
  }
}
