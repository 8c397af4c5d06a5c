import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { buildApi } from '../../src/api/index.js'
import {
  GovernedInferenceService,
  ModelNotAdmittedError,
  ModelRetiredError,
  cloneState,
  modelProvenance,
  servingVerdict,
  type GovState,
} from '../../src/governance/index.js'
import { bytesToHex, generateKeyPair } from '../../src/identity/index.js'
import { manifestHash, parseManifest } from '../../src/models/manifest.js'
import { listenAddrs } from '../../src/p2p/index.js'
import type { GenerateOptions } from '../../src/runtime/engine.js'
import { ModelNotFoundError } from '../../src/runtime/errors.js'
import type { InferenceRequest, InferenceResult, InferenceService, ServedModel } from '../../src/runtime/service.js'
import { NoWorkerError } from '../../src/scheduler/errors.js'
import { SwarmNode } from '../../src/scheduler/swarm-node.js'
import { DAY, GovHarness, HOUR, idOf, modelManifest } from './gov-harness.js'
import { existsSync } from 'node:fs'
import { pino } from 'pino'
import { ensureTinyModel } from '../../src/models/tiny.js'
import { createNode } from '../../src/node/index.js'
import { DEMO_MODEL_PATH, readManifestBeside } from '../../src/node/local-models.js'
import { FakeEngine } from '../fixtures/fake-engine.js'
import { tempDir, tinyModel } from '../helpers/node-process.js'
import { FAKE_SHA, FakeInferenceService as FakeSwarmWorker, fakeParams } from './swarm-fakes.js'

/**
 * Governance decides what is served (issue 7): the serving verdict and provenance views, the
 * `GovernedInferenceService` filter, `/v1/models` and the error answers over `app.inject()`, and
 * the swarm (capability records, scheduler) with real libp2p nodes on loopback.
 */

const m0 = modelManifest(0) // listed in the genesis, then retired
const m1 = modelManifest(1) // admitted by a proposal
const m9 = modelManifest(9) // never admitted

interface History {
  readonly h: GovHarness
  /** State before the retirement: m0 servable by the genesis. */
  readonly before: GovState
  readonly admitId: number
  readonly admitVotes: number[]
  readonly retireId: number
}

/** Genesis lists m0; a proposal admits m1; another retires m0 (3 of 5 members vote yes on each). */
function history(): History {
  const h = new GovHarness({ models: [m0] })
  const before = cloneState(h.state)
  const admitId = h.propose(h.members[0]!, { type: 'admit-model', manifest: m1 }, 'admit model-1')
  h.advance(HOUR + 1)
  const admitVotes = [0, 1, 2].map((i) => h.vote(h.members[i]!, admitId, 'yes'))
  const retireId = h.propose(h.members[1]!, { type: 'retire-model', sha256: m0.file.sha256, reason: 'superseded by model-1' }, 'retire model-0')
  h.advance(HOUR + 1)
  for (const i of [0, 1, 2]) h.vote(h.members[i]!, retireId, 'yes')
  h.tick(DAY + 7 * HOUR)
  return { h, before, admitId, admitVotes, retireId }
}

function info(m: ReturnType<typeof modelManifest>): ServedModel['info'] {
  return { name: m.name, sha256: m.file.sha256, path: `/models/${m.file.name}`, sizeBytes: m.file.size, contextSize: 256, vocabSize: 300, architecture: 'llama', parameterCount: 100_000 }
}

/** Serves whatever models it is given (the node's engines, or the swarm), recording each job. */
class FakeModelsService implements InferenceService {
  readonly jobs: InferenceRequest[] = []
  /** `unlisted`: models it runs without listing them (a worker the scheduler finds on demand). */
  constructor(public models: ReturnType<typeof modelManifest>[], public unlisted: ReturnType<typeof modelManifest>[] = []) {}
  listModels(): readonly ServedModel[] {
    return this.models.map((m) => ({ info: info(m), local: true }))
  }
  async generate(request: InferenceRequest, options?: GenerateOptions): Promise<InferenceResult> {
    const m = [...this.models, ...this.unlisted].find((x) => x.name === request.model || x.file.sha256 === request.model)
    if (m === undefined) throw new ModelNotFoundError(request.model)
    this.jobs.push(request)
    options?.onToken?.({ index: 0, id: 1, text: ' ok', logprob: 0 })
    return { model: m.name, servedBy: 'fake', text: ' ok', tokens: [1], promptTokens: 1, completionTokens: 1, finishReason: 'length', timings: { queuedMs: 0, timeToFirstTokenMs: 0, decodeMs: 0 } }
  }
}

const job = (model: string): InferenceRequest => ({ model, prompt: { kind: 'completion', prompt: 'hi' }, params: fakeParams({ maxTokens: 1 }) })

test('serving verdict and provenance: genesis and proposal admissions with their entries; retired and unknown files are not servable', () => {
  const { h, before, admitId, admitVotes, retireId } = history()
  assert.equal(h.state.proposals[admitId]!.status, 'executed')
  assert.equal(h.state.proposals[retireId]!.status, 'executed')

  assert.deepEqual(servingVerdict(before, m0.file.sha256).servable, true)
  const genesis = modelProvenance(before, m0.file.sha256)!
  assert.deepEqual(genesis.admission, { by: 'genesis', proposal: null, proposer: null, entries: [], network: h.network, at: h.genesis.created })

  const p1 = modelProvenance(h.state, m1.file.sha256.toUpperCase())!
  assert.equal(p1.name, 'model-1')
  assert.equal(p1.license, 'Apache-2.0')
  assert.equal(p1.origin, 'synthetic')
  assert.equal(p1.trainingData, null)
  assert.deepEqual(p1.code, { commit: null, generator: 'test 1' })
  assert.equal(p1.manifestSha256, manifestHash(parseManifest(m1)))
  assert.equal(p1.admission.by, 'proposal')
  assert.equal(p1.admission.proposal, admitId)
  assert.equal(p1.admission.proposer, idOf(h.members[0]!))
  assert.deepEqual(p1.admission.entries, [admitId, ...admitVotes])

  const retired = servingVerdict(h.state, m0.file.sha256)
  assert.ok(!retired.servable && retired.reason === 'retired' && retired.record.retiredBy === retireId)
  assert.equal(modelProvenance(h.state, m0.file.sha256), undefined)
  assert.deepEqual(servingVerdict(h.state, m9.file.sha256), { servable: false, reason: 'not_admitted' })
})

test('GovernedInferenceService lists and runs only admitted models, under their sha256, and quotes the decision otherwise', async () => {
  const { h, retireId } = history()
  let state: GovState | undefined = h.state
  const inner = new FakeModelsService([m0, m1, m9])
  const governed = new GovernedInferenceService(inner, () => state)

  assert.deepEqual(governed.listModels().map((m) => m.info.name), ['model-1'])
  await governed.generate(job('model-1'))
  assert.equal(inner.jobs.at(-1)!.model, m1.file.sha256, 'passed on under the admitted file hash')

  await assert.rejects(governed.generate(job('model-0')), (err: unknown) => err instanceof ModelRetiredError && err.proposal === retireId && err.status === 403 && err.message.includes(`retired by governance (proposal ${retireId})`))
  await assert.rejects(governed.generate(job(m9.file.sha256)), (err: unknown) => err instanceof ModelNotAdmittedError && /`model-9` .* is not admitted by governance/.test(err.message))
  await assert.rejects(governed.generate(job('no-such-model')), ModelNotFoundError)
  // A retired model nobody serves any more is still explained by its name.
  inner.models = [m1]
  assert.ok(governed.refusalFor('model-0') instanceof ModelRetiredError)
  assert.equal(governed.refusalFor('model-1'), undefined)
  // Admitted but not listed: described from its manifest for the scheduler; listed or refused ones are not.
  const unlisted = new GovernedInferenceService(new FakeModelsService([m0]), () => h.state).admittedUnlisted('model-1')!
  assert.deepEqual([unlisted.info.sha256, unlisted.info.contextSize, unlisted.local], [m1.file.sha256, 256, false])
  assert.equal(governed.admittedUnlisted('model-1'), undefined)
  assert.equal(governed.admittedUnlisted('model-0'), undefined)
  // A file the node has but that an inner (swarm) service lists only when admitted is still explained.
  const behindSwarm = new GovernedInferenceService(new FakeModelsService([m1]), () => h.state, () => [{ info: info(m9), local: true }])
  assert.ok(behindSwarm.refusalFor('model-9') instanceof ModelNotAdmittedError)
  // Before governance has a state, nothing is served.
  state = undefined
  assert.deepEqual(governed.listModels(), [])
  await assert.rejects(governed.generate(job('model-1')), ModelNotAdmittedError)
  assert.equal(inner.jobs.length, 1)
})

test('HTTP: /v1/models lists admitted models with provenance and admission trail; others get 403 in OpenAI shape', async () => {
  const { h, admitId, retireId } = history()
  const inner = new FakeModelsService([m0, m1, m9])
  const { app } = buildApi({ service: new GovernedInferenceService(inner, () => h.state) })
  try {
    const list = (await app.inject({ method: 'GET', url: '/v1/models' })).json() as { data: Array<Record<string, any>> }
    assert.deepEqual(list.data.map((m) => m.id), ['model-1'])
    const entry = list.data[0]!
    assert.equal(entry.sha256, m1.file.sha256)
    assert.equal(entry.manifest.provenance.generator, 'test 1')
    assert.deepEqual(entry.provenance, {
      license: 'Apache-2.0', origin: 'synthetic', training_data: null, code: { commit: null, generator: 'test 1' },
      evaluation: null, manifest_sha256: manifestHash(parseManifest(m1)),
    })
    assert.equal(entry.admission.by, 'proposal')
    assert.equal(entry.admission.proposal, admitId)
    assert.equal(entry.admission.entries[0], admitId)
    assert.equal(entry.admission.network, h.network)

    const one = await app.inject({ method: 'GET', url: `/v1/models/${m0.file.sha256}` })
    assert.equal(one.statusCode, 403)
    assert.equal(one.json().error.code, 'model_retired')

    const post = (model: string) => app.inject({ method: 'POST', url: '/v1/completions', payload: { model, prompt: 'hi', max_tokens: 1 } })
    const retired = await post('model-0')
    assert.equal(retired.statusCode, 403)
    assert.deepEqual(Object.keys(retired.json().error).sort(), ['code', 'message', 'param', 'type'])
    assert.equal(retired.json().error.code, 'model_retired')
    assert.equal(retired.json().error.param, 'model')
    assert.match(retired.json().error.message, new RegExp(`model \`model-0\` .* was retired by governance \\(proposal ${retireId}\\)`))
    const notAdmitted = await post('model-9')
    assert.equal(notAdmitted.statusCode, 403)
    assert.equal(notAdmitted.json().error.code, 'model_not_admitted')
    assert.match(notAdmitted.json().error.message, /is not admitted by governance/)
    assert.equal((await post('unknown')).statusCode, 404)
    const ok = await post('model-1')
    assert.equal(ok.statusCode, 200, ok.body)
    assert.equal(inner.jobs.length, 1)

    // Admitted but listed by no worker yet: not in the list, but a job still reaches the scheduler.
    inner.models = [m0, m9]
    inner.unlisted = [m1]
    assert.equal((await app.inject({ method: 'GET', url: '/v1/models/model-1' })).statusCode, 404)
    const routed = await post('model-1')
    assert.equal(routed.statusCode, 200, routed.body)
    assert.equal(inner.jobs.at(-1)!.model, m1.file.sha256)
  } finally {
    await app.close()
  }
})

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function swarmNode(opts: { local?: InferenceService; bootstrap?: string[]; servable?: (sha256: string) => boolean }) {
  const keyPair = generateKeyPair()
  const nodeId = bytesToHex(keyPair.publicKey)
  const n = new SwarmNode({
    keyPair, nodeId, registry: new Registry(), listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false, capabilityIntervalMs: 200,
    ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }),
    ...(opts.servable === undefined ? {} : { servable: opts.servable }),
    ...(opts.local === undefined ? {} : { local: opts.local, localStats: () => ({ parallel: 2, activeSlots: 0, queueDepth: 0, maxQueue: 8 }) }),
  })
  return { n, nodeId }
}

test('swarm: a worker advertises only admitted models; a gateway never schedules a model its governance does not admit', async (t) => {
  // The swarm fakes serve model 'fake' (file FAKE_SHA); a genesis admitting it, and one that does not.
  const admitting = new GovHarness({ models: [{ ...m0, name: 'fake', file: { ...m0.file, sha256: FAKE_SHA } }] }).state
  const empty = new GovHarness().state
  let workerState = empty
  const allowed = new Set<string>()

  const gw = swarmNode({ servable: (sha) => allowed.has(sha) })
  await gw.n.start()
  const boot = [gw.n.host.getMultiaddrs()[0]!.toString()]
  const governedWorker = swarmNode({ local: new GovernedInferenceService(new FakeSwarmWorker('w1'), () => workerState), bootstrap: boot })
  const plainWorker = swarmNode({ local: new FakeSwarmWorker('w2'), bootstrap: boot })
  await governedWorker.n.start()
  await plainWorker.n.start()
  t.after(async () => {
    await plainWorker.n.stop()
    await governedWorker.n.stop()
    await gw.n.stop()
  })

  // Not admitted on the worker's network: no capability record at all (it serves nothing).
  assert.equal(governedWorker.n.gossip!.currentRecord(), undefined)
  await until('the plain worker in the gateway peer table', () => gw.n.gossip!.peers().some((p) => p.nodeId === plainWorker.nodeId))
  // The gateway's governance does not admit FAKE_SHA: not listed, never routed (no candidate → 503).
  assert.deepEqual(gw.n.service.listModels(), [])
  await assert.rejects(gw.n.service.generate(job('fake')), NoWorkerError)

  workerState = admitting
  assert.deepEqual(governedWorker.n.gossip!.currentRecord()!.models.map((m) => m.sha256), [FAKE_SHA])
  allowed.add(FAKE_SHA)
  await until('both workers in the gateway peer table', () => gw.n.gossip!.peers().length === 2)
  assert.deepEqual(gw.n.service.listModels().map((m) => m.info.sha256), [FAKE_SHA])
  const result = await gw.n.service.generate(job('fake'))
  assert.ok([plainWorker.nodeId, governedWorker.nodeId].includes(result.servedBy))
})

test('first start: the local genesis admits the demo model and the started model (a gateway given --model too); a later start with another file does not serve it', async (t) => {
  const silent = pino({ level: 'silent' })
  const tiny = await tinyModel()
  const demoSha = existsSync(DEMO_MODEL_PATH) ? readManifestBeside(DEMO_MODEL_PATH).manifest?.file.sha256 : undefined
  const dir = tempDir()
  const gatewayDir = tempDir()
  t.after(() => {
    dir.cleanup()
    gatewayDir.cleanup()
  })
  const start = async (config: Parameters<typeof createNode>[0]) => {
    const node = createNode({ port: 0, logLevel: 'silent', ...config }, { logger: silent, loadEngine: async (o) => new FakeEngine(o) })
    await node.start()
    t.after(() => node.stop())
    return node
  }
  const servable = async (url: string) => ((await (await fetch(`${url}/api/gov/models`)).json()) as { servable: Array<{ sha256: string }> }).servable.map((m) => m.sha256).sort()

  const worker = await start({ dataDir: dir.path, model: tiny.path })
  assert.deepEqual(await servable(worker.url!), [tiny.sha256, ...(demoSha === undefined ? [] : [demoSha])].sort())
  const listed = ((await (await fetch(`${worker.url}/v1/models`)).json()) as { data: Array<Record<string, any>> }).data
  assert.deepEqual(listed.map((m) => [m.id, m.sha256, m.admission.by, m.provenance.license, m.provenance.origin]), [['commons-tiny-s0', tiny.sha256, 'genesis', 'unknown', 'undeclared']])
  await worker.stop()

  // Same data dir (same network), another file: governance has not admitted it.
  const other = await ensureTinyModel(dir.path, { seed: 1 })
  const restarted = await start({ dataDir: dir.path, model: other.path })
  assert.deepEqual(((await (await fetch(`${restarted.url}/v1/models`)).json()) as { data: unknown[] }).data, [])
  const refused = await fetch(`${restarted.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'commons-tiny-s1', prompt: 'x', max_tokens: 1 }) })
  assert.equal(refused.status, 403)
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'model_not_admitted')
  await restarted.stop()

  const gateway = await start({ dataDir: gatewayDir.path, worker: false, model: tiny.path })
  assert.equal(gateway.model, undefined, 'a gateway loads no model')
  assert.ok((await servable(gateway.url!)).includes(tiny.sha256))
})
