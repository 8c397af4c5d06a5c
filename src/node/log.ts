import { join } from 'node:path'
import type { Message } from '@libp2p/gossipsub'
import { govRoutes } from '../api/routes/gov.js'
import { logRoutes } from '../api/routes/log.js'
import type { ApiPlugin } from '../api/index.js'
import { createGenesis, loadGenesis, writeGenesis, LogStore, LOG_PROTOCOL, serveLog, StreamLogPeer, syncFrom, type Genesis } from '../ledger/index.js'
import { WitnessService, type WitnessPubSub } from '../ledger/consensus/witness.js'
import { DB_FILE } from '../store/index.js'
import type { ModelManifest } from '../models/manifest.js'
import { GovernanceService } from './governance.js'
import type { NodeComponent } from './lifecycle.js'
import type { NodeContext } from './node.js'

/** Epoch length of the local network `commons start` creates on first run (see `commons init`). */
export const LOCAL_EPOCH_MS = 1000

/**
 * Governance timing of that local network: one person on one laptop has nobody to wait for, so
 * votes open at once, last the shortest period the hard limits allow, and take effect at the next
 * epoch. Networks made with `commons init` keep the cautious defaults (days).
 */
/** How long a starting node waits for its bootstrap peers before catching up the log without them. */
const BOOTSTRAP_WAIT_MS = 5000

export const LOCAL_GOVERNANCE_PARAMS = { discussionDelayMs: 0, votingPeriodMs: 60_000, timelockMs: 0 } as const

/**
 * The genesis in the data dir, or — on the very first start — a new local network in which this
 * node is the only member and the only witness (k = 1 of n = 1): the whole system on one laptop
 * (DESIGN.md, "One node, many roles"). `commons init` writes a different genesis beforehand.
 */
export function ensureGenesis(dataDir: string, nodeId: string, models: readonly ModelManifest[] = []): Genesis {
  const existing = loadGenesis(dataDir)
  if (existing !== undefined) return existing
  const genesis = createGenesis({
    network: 'commons-local',
    created: Date.now(),
    members: [nodeId],
    witnesses: [nodeId],
    epochMs: LOCAL_EPOCH_MS,
    // Governance decides what is served: the models this node starts with are admitted here (src/node/genesis-models.ts).
    params: { ...LOCAL_GOVERNANCE_PARAMS, ...(models.length === 0 ? {} : { models: [...models] }) },
  })
  writeGenesis(dataDir, genesis)
  return genesis
}

/**
 * A pubsub with no peers, for a node that runs without libp2p: its witness is the only one, so
 * its consensus messages have nobody to reach (the service handles its own messages itself).
 */
class NoPeersPubSub implements WitnessPubSub {
  subscribe(): void {}
  unsubscribe(): void {}
  async publish(): Promise<void> {}
  addEventListener(_type: 'message', _listener: (event: CustomEvent<Message>) => void): void {}
  removeEventListener(_type: 'message', _listener: (event: CustomEvent<Message>) => void): void {}
}

/** The log, its witness and governance as node components, and their HTTP routes. */
export interface LogParts {
  readonly components: readonly NodeComponent[]
  readonly plugins: readonly ApiPlugin[]
  /** The governance service once started (what may be served follows its state). */
  readonly governance: () => GovernanceService | undefined
}

/**
 * Wires the log into a node: the SQLite log store (verified against the last final checkpoint on
 * open), the witness service (Tendermint per epoch; over gossipsub when the node is in a swarm)
 * and the governance service replaying final entries, plus `/api/log/*`, `/api/gov/*` and
 * `/api/state`. Started after the swarm (the witness needs its pubsub) and stopped before it.
 */
export function createLogParts(ctx: NodeContext): LogParts {
  let store: LogStore | undefined
  let witness: WitnessService | undefined
  let governance: GovernanceService | undefined
  const genesis = ensureGenesis(ctx.dataDir, ctx.nodeId)

  const storeComponent: NodeComponent = {
    name: 'log-store',
    async start() {
      store = LogStore.open(join(ctx.dataDir, DB_FILE), { genesis })
      ctx.logger.info({ network: store.network, size: store.size(), witnesses: genesis.witnesses.length, threshold: genesis.threshold }, 'log opened')
      const host = ctx.swarm?.host
      if (host === undefined) return
      const opened = store
      await host.handle(LOG_PROTOCOL, (stream) => serveLog(opened, stream))
      await catchUp(opened)
    },
    async stop() {
      await ctx.swarm?.host.unhandle(LOG_PROTOCOL).catch(() => undefined)
      store?.close()
      store = undefined
    },
  }

  /**
   * Before the witness starts (so nothing else appends meanwhile), catch up from the peers the
   * swarm is connected to over `/commons/log/1`. Peers are untrusted: `syncFrom` stores nothing
   * until k cosignatures, the consistency proof and every entry check out. Peers of another
   * network, or that fail, are skipped; live catch-up after that is the witness's job.
   */
  async function catchUp(into: LogStore, signal?: AbortSignal): Promise<void> {
    const host = ctx.swarm!.host
    // Bootstrap peers are dialled in the background: give them a moment to connect.
    const deadline = Date.now() + BOOTSTRAP_WAIT_MS
    while ((ctx.config.p2p?.bootstrap.length ?? 0) > 0 && host.getConnections().length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    for (const connection of host.getConnections()) {
      if (signal?.aborted === true) break
      try {
        const dialTimeout = AbortSignal.timeout(5000)
        const stream = await host.dialProtocol(connection.remotePeer, LOG_PROTOCOL, { signal: signal === undefined ? dialTimeout : AbortSignal.any([signal, dialTimeout]) })
        // A peer that stops answering: aborting the stream fails the pending read, and the sync ends.
        const abort = (): void => stream.abort(new Error('log sync timed out'))
        signal?.addEventListener('abort', abort, { once: true })
        let result
        try {
          result = await syncFrom(into, new StreamLogPeer(stream), signal === undefined ? {} : { signal })
        } finally {
          signal?.removeEventListener('abort', abort)
        }
        await stream.close().catch(() => undefined)
        if (result.to > result.from || result.checkpoints > 0) {
          ctx.logger.info({ peer: connection.remotePeer.toString(), from: result.from, to: result.to, checkpoints: result.checkpoints }, 'log caught up')
        }
      } catch (err) {
        ctx.logger.debug({ peer: connection.remotePeer.toString(), err: err instanceof Error ? err.message : String(err) }, 'log sync skipped')
      }
    }
  }

  const witnessComponent: NodeComponent = {
    name: 'witness',
    async start() {
      const pubsub: WitnessPubSub = ctx.swarm === undefined ? new NoPeersPubSub() : (ctx.swarm.host.services.pubsub as unknown as WitnessPubSub)
      witness = new WitnessService({
        store: store!,
        keys: ctx.keyPair,
        pubsub,
        dataDir: ctx.dataDir,
        ...(ctx.swarm === undefined ? {} : { syncLog: (signal: AbortSignal) => catchUp(store!, signal) }),
        onEvent: (event) => {
          if (event.kind === 'decided') ctx.logger.debug({ height: event.height, size: event.size, final: event.final }, 'epoch decided')
          else if (event.kind === 'fork-proof') ctx.logger.warn({ witness: event.witness, type: event.proofType }, 'fork proof: submitted to the log; the witness is ignored from the height after it is final')
          else if (event.kind === 'resynced') ctx.logger.info({ from: event.from, to: event.to }, 'log synced from peers after falling behind')
          else if (event.kind === 'error') ctx.logger.warn({ message: event.message }, 'witness error')
        },
      })
      witness.start()
    },
    async stop() {
      witness?.stop()
      witness = undefined
    },
  }

  const governanceComponent: NodeComponent = {
    name: 'governance',
    async start() {
      governance = new GovernanceService({
        store: store!,
        genesis,
        keyPair: ctx.keyPair,
        submit: (bytes) => witness!.submit(bytes),
        dataDir: ctx.dataDir,
        logger: ctx.logger,
      })
      await governance.start()
    },
    async stop() {
      await governance?.stop()
      governance = undefined
    },
  }

  return {
    components: [storeComponent, witnessComponent, governanceComponent],
    plugins: [
      logRoutes(
        () => store,
        (bytes) => {
          const hash = witness!.submit(bytes)
          // Accepted = new to this node's log; resubmitting an entry already in it is harmless.
          return { hash, accepted: store?.indexOf(hash) === undefined }
        },
      ),
      govRoutes({ governance: () => governance }),
    ],
    governance: () => governance,
  }
}
