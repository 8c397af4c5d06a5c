import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CorruptModelError, ModelNotFoundError } from '../../src/models/errors.js'
import { buildManifest, type ModelManifest } from '../../src/models/manifest.js'
import { createProgress } from '../../src/models/progress.js'
import { ModelStore } from '../../src/models/store.js'
import { ensureTinyModel } from '../../src/models/tiny.js'

const dir = mkdtempSync(join(tmpdir(), 'models-store-'))
let tiny: { path: string; sha256: string; size: number }
let other: { path: string; sha256: string; size: number }
let manifest: ModelManifest

before(async () => {
  tiny = await ensureTinyModel(join(dir, 'src'), { seed: 0 })
  other = await ensureTinyModel(join(dir, 'src'), { seed: 1 })
  manifest = await buildManifest(tiny.path, {
    name: 'tiny',
    version: '1',
    license: 'Apache-2.0',
    provenance: { kind: 'synthetic', generator: 'writeTinyModel', seed: 0 },
  })
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('import copies into <dataDir>/models/<sha256>.gguf and resolves by hash, prefix and names', async () => {
  const store = new ModelStore(join(dir, 'data'))
  const stored = await store.import(tiny.path, { name: 'my-model', manifest, progress: 'none' })
  assert.equal(stored.sha256, tiny.sha256)
  assert.equal(stored.path, join(dir, 'data', 'models', `${tiny.sha256}.gguf`))
  assert.equal(stored.size, tiny.size)
  assert.deepEqual(stored.names, ['commons-tiny-s0', 'my-model', 'tiny'])
  assert.deepEqual(stored.manifest, manifest)
  for (const key of [tiny.sha256, tiny.sha256.slice(0, 12), 'my-model', 'tiny', 'commons-tiny-s0']) {
    assert.equal((await store.resolve(key)).sha256, tiny.sha256, key)
  }
  await assert.rejects(store.resolve('nope'), ModelNotFoundError)
  await assert.rejects(store.resolve(tiny.sha256.slice(0, 8)), ModelNotFoundError) // too short to be a prefix
  // No temp files left behind.
  assert.deepEqual(readdirSync(store.dir).sort(), [`${tiny.sha256}.gguf`, `${tiny.sha256}.json`])
})

test('re-import keeps one copy and merges names; list shows every model', async () => {
  const store = new ModelStore(join(dir, 'data2'))
  await store.import(tiny.path, { name: 'first', progress: 'none' })
  await store.import(tiny.path, { name: 'second', progress: 'none' })
  await store.import(other.path, { progress: 'none' })
  const list = await store.list()
  assert.equal(list.length, 2)
  const t = list.find((m) => m.sha256 === tiny.sha256)
  assert.deepEqual(t?.names, ['commons-tiny-s0', 'first', 'second'])
  assert.equal((await store.resolve('commons-tiny-s1')).sha256, other.sha256)
  assert.equal(readdirSync(store.dir).filter((f) => f.endsWith('.gguf')).length, 2)
})

test('import rejects a corrupt file or a manifest mismatch and leaves nothing behind', async () => {
  const store = new ModelStore(join(dir, 'data3'))
  const junk = join(dir, 'junk.gguf')
  writeFileSync(junk, 'definitely not a model')
  await assert.rejects(store.import(junk, { progress: 'none' }), CorruptModelError)
  await assert.rejects(store.import(other.path, { manifest, progress: 'none' }), CorruptModelError)
  assert.deepEqual(readdirSync(store.dir), [])
  await assert.rejects(store.import(tiny.path, { name: 'Bad Name!', progress: 'none' }))
})

test('validate detects a stored file whose bytes changed', async () => {
  const store = new ModelStore(join(dir, 'data4'))
  const stored = await store.import(tiny.path, { progress: 'none' })
  await store.validate(stored.sha256)
  const fd = openSync(stored.path, 'r+')
  writeSync(fd, Uint8Array.of(1, 2, 3), 0, 3, stored.size - 10)
  closeSync(fd)
  await assert.rejects(store.validate(stored.sha256), (e: unknown) => e instanceof CorruptModelError && /content hash/.test(e.message))
})

test('import honours an aborted signal and cleans up', async () => {
  const store = new ModelStore(join(dir, 'data5'))
  const ac = new AbortController()
  ac.abort()
  await assert.rejects(store.import(tiny.path, { signal: ac.signal, progress: 'none' }))
  assert.ok(!existsSync(store.dir) || readdirSync(store.dir).length === 0)
})

test('progress off a TTY is JSON lines: throttled updates plus a final line', () => {
  const lines: string[] = []
  const FakeStream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream
  const p = createProgress('copy', 100, { stream: FakeStream, intervalMs: 60_000 })
  p.update(10)
  p.update(50)
  p.update(100)
  p.stop()
  const parsed = lines.map((l) => JSON.parse(l) as { task: string; done: number; total: number; detail?: string })
  assert.deepEqual(parsed.map((l) => [l.task, l.done, l.total, l.detail]), [['copy', 10, 100, undefined], ['copy', 100, 100, 'done']])
})
