import type { FastifyInstance } from 'fastify'
import { CommonsError } from '../../errors.js'
import type { PeersReport } from '../../scheduler/swarm-node.js'

/** The node runs without the swarm (no libp2p host), so it has no peers to report. */
export class SwarmDisabledError extends CommonsError {
  constructor() {
    super('swarm_disabled', 'This node is not part of a swarm (started without p2p)', { status: 503 })
  }
}

/**
 * `GET /api/peers`: this node's peer id and addresses, its connection count, and every worker
 * with a fresh signed capability record (models, free slots, queue depth, tok/s, version, age).
 * Soft state, for display and `commons peers`; never trusted for anything that matters.
 */
export function peersRoutes(report: () => PeersReport | undefined) {
  return async function peersPlugin(app: FastifyInstance): Promise<void> {
    app.get('/api/peers', async () => {
      const r = report()
      if (r === undefined) throw new SwarmDisabledError()
      return r
    })
  }
}
