import assert from 'node:assert/strict'
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { pino } from 'pino'
import { loadOrCreateKey, nodeIdOf } from '../../src/identity/index.js'
import { InsecureKeyFileError } from '../../src/identity/errors.js'
import {
  createNode,
  InvalidConfigError,
  Lifecycle,
  listLocalModels,
  ModelFileNotFoundError,
  PortInUseError,
  resolveModel,
  type NodeComponent,
} from '../../src/node/index.js'
import { FakeEngine } from '../fixtures/fake-engine.js'
import { tempDir, tinyModel } from '../helpers/node-process.js'

/** The composition root: wiring, order of start/stop, and its typed failures. */

const silent = pino({ level: 'silent' })

function fakeModelFile(dir: string, name = 'm'): string {
  const path = join(dir, `${name}.gguf`)
  writeFileSync(path, 'GGUF-fake')
  return path
}

test('Lifecycle starts in order, stops in reverse, and rolls back when a start fails', async () => {
  const events: string[] = []
  const component = (name: string, failStart = false): NodeComponent => ({
    name,
    async start() {
      if (failStart) throw new Error(`${name} failed`)
      events.push(`start ${name}`)
    },
    async stop() {
      events.push(`stop ${name}`)
    },
  })
  const ok = new Lifecycle([component('a'), component('b'), component('c')])
  await ok.start()
  await ok.stop()
  await ok.stop() // idempotent
  assert.deepEqual(events, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])

  events.length = 0
  const broken = new Lifecycle([component('a'), component('b'), component('x', true), component('d')])
  await assert.rejects(broken.start(), /x failed/)
  assert.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a'])
})

test('config is validated with named fields', () => {
  assert.throws(() => createNode({ port: 70_000 }), (err: unknown) => err instanceof InvalidConfigError && err.param === 'port')
  assert.throws(() => createNode({ parallel: 0 }), (err: unknown) => err instanceof InvalidConfigError && err.param === 'parallel')
  assert.throws(() => createNode({ bogus: 1 } as never), InvalidConfigError)
  const node = createNode({})
  assert.equal(node.config.host, '127.0.0.1')
  assert.equal(node.config.port, 8080)
  assert.equal(node.config.parallel, 4)
  assert.deepEqual(node.config.cors, [])
})

test('resolveModel: --model as a file, as a local name, missing; default falls back to the tiny model', async () => {
  const dir = tempDir()
  try {
    const file = fakeModelFile(dir.path, 'direct')
    const byFile = await resolveModel(file, dir.path, async () => assert.fail('no tiny needed'))
    assert.equal(byFile.name, 'direct')
    assert.equal(byFile.builtIn, false)

    mkdirSync(join(dir.path, 'models'))
    const named = fakeModelFile(join(dir.path, 'models'), 'named')
    writeFileSync(join(dir.path, 'models', 'named.manifest.json'), JSON.stringify({ license: 'MIT', architecture: 'llama' }))
    const byName = await resolveModel('named', dir.path, async () => assert.fail('no tiny needed'))
    assert.equal(byName.path, named)
    // A manifest that fails the schema of src/models/manifest.ts is reported, never served.
    assert.equal(byName.manifest, undefined)
    assert.match(byName.manifestError ?? '', /invalid manifest/)

    await assert.rejects(resolveModel('absent', dir.path, async () => assert.fail('no tiny')), ModelFileNotFoundError)

    // No flag (and, in this checkout, no trained demo model unless it was built): the built-in model.
    const fallback = await resolveModel(undefined, dir.path, async (modelsDir) => ({ path: fakeModelFile(modelsDir, 'tiny'), sha256: 'cd'.repeat(32) }))
    assert.equal(fallback.builtIn, true)
    if (fallback.name === 'tiny') assert.equal(fallback.sha256, 'cd'.repeat(32))
    else assert.equal(fallback.name, 'commons-demo')

    const listed = listLocalModels([join(dir.path, 'models')]).map((m) => m.name)
    assert.deepEqual(listed.sort(), ['named', 'tiny'].filter((n) => n !== 'tiny' || fallback.name === 'tiny'))
  } finally {
    dir.cleanup()
  }
})

test('createNode starts engine → components → HTTP, serves the API and web UI, and stops in reverse', async () => {
  const dir = tempDir()
  const events: string[] = []
  let engine: FakeEngine | undefined
  try {
    // A real GGUF (the tiny model) under another name: the first start admits it in the local
    // genesis by the manifest built from the file, and the engine reports that file's sha256.
    const tiny = await tinyModel()
    const model = join(dir.path, 'wired.gguf')
    copyFileSync(tiny.path, model)
    const node = createNode(
      { dataDir: dir.path, port: 0, model, parallel: 2, cors: ['*'] },
      {
        logger: silent,
        loadEngine: async (options) => {
          events.push('engine')
          engine = new FakeEngine(options)
          return engine
        },
        components: (ctx) => [
          {
            name: 'swarm',
            async start() {
              events.push(`component sees ${ctx.engines.length} engine(s)`)
            },
            async stop() {
              events.push('component stopped')
            },
          },
        ],
        plugins: (ctx) => [
          async (app) => {
            app.get('/api/whoami', async () => ({ node: ctx.nodeId }))
          },
        ],
      },
    )
    await node.start()
    const nodeId = nodeIdOf(loadOrCreateKey(dir.path).publicKey)
    assert.equal(node.nodeId, nodeId)
    assert.match(node.url!, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.deepEqual(events, ['engine', 'component sees 1 engine(s)'])
    assert.equal(engine!.options.parallel, 2)
    assert.equal(engine!.model.sha256, tiny.sha256)

    const health = await (await fetch(`${node.url}/healthz`)).json()
    assert.deepEqual(health, { status: 'ok', node_id: nodeId, models: ['wired'] })
    const completion = await fetch(`${node.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://ui.example' },
      body: JSON.stringify({ model: 'wired', prompt: 'x', max_tokens: 2 }),
    })
    assert.equal(completion.headers.get('access-control-allow-origin'), '*')
    assert.equal(((await completion.json()) as { choices: Array<{ text: string }> }).choices[0]!.text, ' t0 t1')
    assert.deepEqual(await (await fetch(`${node.url}/api/whoami`)).json(), { node: nodeId })
    const web = await fetch(`${node.url}/`)
    assert.equal(web.status, 200, await web.clone().text())
    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    assert.match(metrics, /commons_slots\{model="wired"\} 2/)
    assert.match(metrics, /process_cpu_seconds_total/)

    await node.stop()
    assert.deepEqual(events.slice(2), ['component stopped'])
    assert.equal(engine!.unloaded, true)
    assert.equal(node.url, undefined)
    await assert.rejects(fetch(`${node.url ?? 'http://127.0.0.1:1'}/healthz`))
  } finally {
    dir.cleanup()
  }
})

test('createNode fails fast with typed errors: port in use, insecure key file', async () => {
  const dir = tempDir()
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = blocker.address() as AddressInfo
    let loaded = false
    const model = fakeModelFile(dir.path)
    const busy = createNode({ dataDir: dir.path, port, model }, { logger: silent, loadEngine: async (o) => ((loaded = true), new FakeEngine(o)) })
    await assert.rejects(busy.start(), (err: unknown) => err instanceof PortInUseError && err.message.includes(`port ${port} on 127.0.0.1 is already in use`))
    assert.equal(loaded, false, 'the port is checked before the model is loaded')

    chmodSync(join(dir.path, 'key.json'), 0o640)
    const insecure = createNode({ dataDir: dir.path, port: 0, model }, { logger: silent, loadEngine: async (o) => new FakeEngine(o) })
    await assert.rejects(insecure.start(), (err: unknown) => err instanceof InsecureKeyFileError && /chmod 600/.test(err.message))
  } finally {
    blocker.close()
    dir.cleanup()
  }
})
