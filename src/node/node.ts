import type { AddressInfo } from 'node:net'
import { pino, type Logger } from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { buildApi, type ApiPlugin } from '../api/index.js'
import { webRoutes } from '../api/routes/web.js'
import { loadOrCreateKey, nodeIdOf, type KeyPair } from '../identity/index.js'
import { ensureTinyModel } from '../models/tiny.js'
import type { Engine } from '../runtime/engine.js'
import { loadLlamaEngine, type LlamaEngineOptions } from '../runtime/llama-engine.js'
import { LocalInferenceService } from '../runtime/local-service.js'
import type { InferenceService } from '../runtime/service.js'
import { parseNodeConfig, type NodeConfig, type NodeConfigInput } from './config.js'
import { resolveDataDir } from './datadir.js'
import { ListenError, PortInUseError } from './errors.js'
import { Lifecycle, type NodeComponent, type Startable } from './lifecycle.js'
import { assertPortFree } from './port-check.js'
import { resolveModel, type ResolvedModel, type TinyModelProvider } from './resolve-model.js'
import { createSwarm } from './swarm.js'
import { createLogParts, ensureGenesis, type LogParts } from './log.js'
import { localGenesisModels } from './genesis-models.js'
import { GovernedInferenceService, type GovState } from '../governance/index.js'
import { loadGenesis } from '../ledger/index.js'
import { peersRoutes } from '../api/routes/peers.js'
import type { SwarmNode } from '../scheduler/index.js'

/** What optional parts (swarm, log, governance, web UI) get to wire themselves in. */
export interface NodeContext {
  readonly config: NodeConfig
  readonly dataDir: string
  readonly keyPair: KeyPair
  readonly nodeId: string
  readonly logger: Logger
  /** The node's own Prometheus registry; add metrics here, never to prom-client's global one. */
  readonly metricsRegistry: Registry
  /** Engines loaded in this process. */
  readonly local: LocalInferenceService
  readonly engines: readonly Engine[]
  /** The swarm (libp2p host, scheduler) when the node runs with `p2p`; protocols use `swarm.host`. */
  readonly swarm?: SwarmNode
}

/**
 * Extension points of the composition root. Optional components are started after the engines
 * and before the HTTP server (so routes can rely on them) and stopped in reverse order.
 */
export interface NodeDeps {
  /** Route plugins (`/api/gov`, `/api/log`, `/api/peers`, web UI), given the started context. */
  readonly plugins?: (ctx: NodeContext) => readonly ApiPlugin[]
  /** Long-lived parts (libp2p host, log store, witness) in start order. */
  readonly components?: (ctx: NodeContext) => readonly NodeComponent[]
  /** Replaces the service the API uses (e.g. the swarm scheduler wrapping the local engines). */
  readonly service?: (ctx: NodeContext) => InferenceService
  /** Defaults to JSON lines on stderr at `config.logLevel`. */
  readonly logger?: Logger
  /** Writes the tiny built-in model (default: `src/models/tiny.ts`). */
  readonly ensureTinyModel?: TinyModelProvider
  /** Defaults to the llama.cpp engine. */
  readonly loadEngine?: (options: LlamaEngineOptions) => Promise<Engine>
}

/** A running (or runnable) Commons node. */
export interface CommonsNode extends Startable {
  readonly config: NodeConfig
  /** Set once started. */
  readonly nodeId: string | undefined
  /** `http://host:port` once listening (the real port when `port` was 0). */
  readonly url: string | undefined
  readonly model: ResolvedModel | undefined
  /** libp2p addresses (with `/p2p/<peer id>`) once started with `p2p`; empty otherwise. */
  readonly p2pAddrs: readonly string[]
}

/** Host part of a URL for `host`: the unspecified address is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/**
 * The composition root (DESIGN.md, "node/"): resolves the data dir, loads or creates the key
 * (refusing a group/world-readable key file), resolves and loads the model, builds the API and
 * listens. Parts start in order and stop in reverse; a failure while starting stops what had
 * started and rethrows a typed error (`PortInUseError`, `ModelLoadError`, `InsecureKeyFileError`…).
 */
export function createNode(input: NodeConfigInput, deps: NodeDeps = {}): CommonsNode {
  const config = parseNodeConfig(input)
  const logger = deps.logger ?? pino({ level: config.logLevel, base: { component: 'node' } }, pino.destination({ fd: 2, sync: true }))
  const loadEngine = deps.loadEngine ?? loadLlamaEngine

  let lifecycle: Lifecycle | undefined
  let nodeId: string | undefined
  let url: string | undefined
  let model: ResolvedModel | undefined
  let swarm: (SwarmNode & NodeComponent) | undefined

  async function start(): Promise<void> {
    if (lifecycle !== undefined) throw new Error('node already started')
    const dataDir = resolveDataDir(config.dataDir)
    const keyPair = loadOrCreateKey(dataDir)
    await assertPortFree(config.host, config.port)
    nodeId = nodeIdOf(keyPair.publicKey)
    // Governance decides what is served (issue 7): a first start admits the models it starts with
    // in its local genesis, written before the log opens it.
    if (loadGenesis(dataDir) === undefined) {
      // A gateway given --model (e.g. by `commons swarm --model`) admits it too: its local swarm serves it.
      const started = config.worker || config.model !== undefined ? await resolveModel(config.model, dataDir, deps.ensureTinyModel ?? ensureTinyModel) : undefined
      if (config.worker) model = started
      const admitted = await localGenesisModels(started, logger)
      if (model !== undefined && admitted.startedSha256 !== undefined) model = { ...model, sha256: admitted.startedSha256 }
      ensureGenesis(dataDir, nodeId, admitted.manifests)
    }
    const metricsRegistry = new Registry()
    collectDefaultMetrics({ register: metricsRegistry })
    const local = new LocalInferenceService(nodeId)
    // Workers advertise and run, and the API lists and schedules, only what governance admits now.
    let logPartsRef: LogParts | undefined
    const govState = (): GovState | undefined => logPartsRef?.governance()?.state()
    const admittedLocal = new GovernedInferenceService(local, govState)
    const engines: Engine[] = []
    swarm = config.p2p === undefined ? undefined : createSwarm({ config, dataDir, keyPair, nodeId, logger, metricsRegistry, local: admittedLocal, engines, servable: (sha256) => admittedLocal.isServable(sha256) })
    const ctx: NodeContext = { config, dataDir, keyPair, nodeId, logger, metricsRegistry, local, engines, ...(swarm === undefined ? {} : { swarm }) }

    const engineComponent: NodeComponent = {
      name: 'engine',
      async start() {
        if (!config.worker) {
          logger.info('no worker: this node loads no model and routes every job to the swarm')
          return
        }
        model ??= await resolveModel(config.model, dataDir, deps.ensureTinyModel ?? ensureTinyModel)
        logger.info({ model: model.name, path: model.path, builtIn: model.builtIn }, 'loading model')
        const engine = await loadEngine({
          modelPath: model.path,
          name: model.name,
          parallel: config.parallel,
          ...(config.maxQueue === undefined ? {} : { maxQueue: config.maxQueue }),
          ...(config.contextSize === undefined ? {} : { contextSize: config.contextSize }),
          ...(config.threads === undefined ? {} : { threads: config.threads }),
          ...(model.sha256 === undefined ? {} : { sha256: model.sha256 }),
        })
        engines.push(engine)
        local.addEngine(engine, model.manifest)
        logger.info({ model: engine.model.name, sha256: engine.model.sha256, contextSize: engine.model.contextSize, parallel: config.parallel }, 'model loaded')
      },
      async stop() {
        for (const engine of engines.splice(0)) {
          local.removeEngine(engine.model.name)
          await engine.unload()
        }
      },
    }

    // Every node keeps the log (a local one-witness network until `commons init` says otherwise).
    const logParts = createLogParts(ctx)
    logPartsRef = logParts
    let extras: Lifecycle | undefined
    const extrasComponent: NodeComponent = {
      name: 'components',
      async start() {
        extras = new Lifecycle([...logParts.components, ...(deps.components?.(ctx) ?? [])], (event, name) => logger.info({ component: name }, event))
        await extras.start()
        // Governance has its state now: advertise the admitted models without waiting for the next tick.
        swarm?.gossip?.publishSoon()
        for (const e of engines) {
          if (admittedLocal.isServable(e.model.sha256)) continue
          logger.warn({ model: e.model.name, sha256: e.model.sha256 }, 'governance does not admit this model on this network, so it is not served; members can admit it with `commons gov propose admit-model --manifest FILE`')
        }
      },
      async stop() {
        await extras?.stop()
      },
    }

    let closeHttp: (() => Promise<void>) | undefined
    const httpComponent: NodeComponent = {
      name: 'http',
      async start() {
        // The node's own model files explain a refusal ("not admitted") even where the swarm lists only admitted ones.
        const service = new GovernedInferenceService(deps.service?.(ctx) ?? swarm?.service ?? local, govState, () => local.listModels())
        const { app } = buildApi({
          service,
          logger,
          metricsRegistry,
          loads: () => engines.map((e) => ({ model: e.model.name, ...e.stats() })),
          cors: config.cors,
          nodeId,
          // The web UI (at `/`) is part of every node, registered last so API routes win.
          plugins: [peersRoutes(() => (swarm === undefined ? undefined : swarm.peers())), ...logParts.plugins, ...(deps.plugins?.(ctx) ?? []), webRoutes],
        })
        closeHttp = () => app.close()
        try {
          await app.listen({ host: config.host, port: config.port })
        } catch (err) {
          await app.close().catch(() => undefined)
          const code = (err as NodeJS.ErrnoException).code
          if (code === 'EADDRINUSE') throw new PortInUseError(config.host, config.port, err)
          throw new ListenError(config.host, config.port, err instanceof Error ? err.message : String(err), err)
        }
        const address = app.server.address() as AddressInfo
        url = `http://${urlHost(config.host)}:${address.port}`
        logger.info({ url, nodeId }, 'listening')
      },
      async stop() {
        url = undefined
        await closeHttp?.()
      },
    }

    lifecycle = new Lifecycle([engineComponent, ...(swarm === undefined ? [] : [swarm]), extrasComponent, httpComponent])
    try {
      await lifecycle.start()
    } catch (err) {
      lifecycle = undefined
      throw err
    }
  }

  async function stop(): Promise<void> {
    const running = lifecycle
    lifecycle = undefined
    await running?.stop()
  }

  return {
    config,
    start,
    stop,
    get nodeId() {
      return nodeId
    },
    get url() {
      return url
    },
    get model() {
      return model
    },
    get p2pAddrs() {
      try {
        return swarm?.host.getMultiaddrs().map(String) ?? []
      } catch {
        return []
      }
    },
  }
}
