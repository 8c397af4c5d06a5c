import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { KeyPair } from '../identity/index.js'
import { listenAddrs } from '../p2p/index.js'
import type { Engine } from '../runtime/engine.js'
import type { InferenceService } from '../runtime/service.js'
import { LEGACY_RECEIPTS_FILE, SwarmNode } from '../scheduler/index.js'
import { DB_FILE } from '../store/index.js'
import type { NodeConfig } from './config.js'
import type { NodeComponent } from './lifecycle.js'

/** What the swarm part needs from the composition root. */
export interface SwarmWiring {
  readonly config: NodeConfig
  readonly dataDir: string
  readonly keyPair: KeyPair
  readonly nodeId: string
  readonly logger: Logger
  readonly metricsRegistry: Registry
  readonly local: InferenceService
  /** Engines loaded in this process (filled by the engine component before the swarm starts). */
  readonly engines: readonly Engine[]
  /** Governance filter: whether the model file with this sha256 may be served (remote workers' models included). */
  readonly servable?: (sha256: string) => boolean
}

/**
 * Builds the swarm part of a node from its `p2p` config: libp2p on the API host, the given port
 * (TCP) and the next one (WebSockets), bootstrap peers, mDNS (on by default except on loopback,
 * where only this machine could answer — keeps concurrent local test swarms apart), the job
 * worker when the node runs models, and the scheduler as the API's service.
 */
export function createSwarm(w: SwarmWiring): SwarmNode & NodeComponent {
  const p2p = w.config.p2p
  if (p2p === undefined) throw new Error('createSwarm needs config.p2p')
  const loopback = w.config.host === '127.0.0.1' || w.config.host === 'localhost' || w.config.host === '::1'
  const host = w.config.host === 'localhost' ? '127.0.0.1' : w.config.host
  return new SwarmNode({
    keyPair: w.keyPair,
    nodeId: w.nodeId,
    registry: w.metricsRegistry,
    logger: w.logger.child({ component: 'swarm' }),
    listen: listenAddrs(host, p2p.port),
    bootstrap: p2p.bootstrap,
    mdns: p2p.mdns ?? !loopback,
    worker: w.config.worker,
    local: w.local,
    localStats: (model) => w.engines.find((e) => e.model.name === model)?.stats(),
    // Receipts live in the node's one database; an older data dir's receipts.db is imported once.
    receiptsDb: join(w.dataDir, DB_FILE),
    legacyReceiptsDb: join(w.dataDir, LEGACY_RECEIPTS_FILE),
    ...(p2p.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: p2p.stallTimeoutMs }),
    ...(p2p.capabilityGossip === undefined ? {} : { capabilityGossip: p2p.capabilityGossip }),
    ...(w.servable === undefined ? {} : { servable: w.servable }),
  })
}
