import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CorruptModelError, InvalidManifestError } from '../../src/models/errors.js'
import {
  buildManifest,
  listManifests,
  loadManifest,
  manifestHash,
  manifestPath,
  parseManifest,
  verifyManifest,
  type ModelManifest,
} from '../../src/models/manifest.js'
import { ensureTinyModel, getTinyTokenizer } from '../../src/models/tiny.js'

const dir = mkdtempSync(join(tmpdir(), 'models-manifest-'))
let model: { path: string; sha256: string; size: number }
let manifest: ModelManifest

before(async () => {
  model = await ensureTinyModel(dir)
  manifest = await buildManifest(model.path, {
    name: 'commons-tiny',
    version: '1',
    license: 'Apache-2.0',
    provenance: { kind: 'synthetic', generator: 'src/models/tiny.ts writeTinyModel', seed: 0 },
    evaluation: { metrics: { note: 0 }, samples: ['…'] },
  })
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('buildManifest reads architecture, tokenizer and hash from the file', () => {
  assert.equal(manifest.file.sha256, model.sha256)
  assert.equal(manifest.file.size, model.size)
  assert.equal(manifest.file.name, 'commons-tiny.gguf')
  assert.equal(manifest.quantization, 'Q8_0')
  assert.equal(manifest.architecture.hyperparameters.blockCount, 2)
  assert.equal(manifest.architecture.hyperparameters.vocabSize, getTinyTokenizer().vocabSize)
  assert.deepEqual(manifest.tokenizer, { model: 'gpt2', pre: 'qwen2', vocabSize: getTinyTokenizer().vocabSize, merges: getTinyTokenizer().vocab.merges.length })
  // 2 × (4·64² + 3·64·128) + 2 · vocab · 64 + 5 · 64 norms
  assert.equal(manifest.architecture.parameters, 2 * (4 * 64 * 64 + 3 * 64 * 128) + 2 * getTinyTokenizer().vocabSize * 64 + 5 * 64)
})

test('verifyManifest accepts the file and rejects a changed byte, a changed size, a wrong architecture', async () => {
  await verifyManifest(manifest, model.path)
  const flipped = join(dir, 'flipped.gguf')
  copyFileSync(model.path, flipped)
  const fd = openSync(flipped, 'r+')
  writeSync(fd, Uint8Array.of(0x5a), 0, 1, model.size - 40)
  closeSync(fd)
  await assert.rejects(verifyManifest(manifest, flipped), (e: unknown) => e instanceof CorruptModelError && /sha256/.test(e.message))
  await assert.rejects(verifyManifest({ ...manifest, file: { ...manifest.file, size: model.size + 1 } }, model.path), /size/)
  const wrongArch = {
    ...manifest,
    architecture: { ...manifest.architecture, hyperparameters: { ...manifest.architecture.hyperparameters, blockCount: 3 } },
  }
  await assert.rejects(verifyManifest(wrongArch, model.path), /llama.block_count/)
})

test('manifests round-trip through JSON files; invalid ones are typed errors', async () => {
  const path = manifestPath(dir, manifest.name)
  assert.equal(path, join(dir, 'commons-tiny.manifest.json'))
  writeFileSync(path, JSON.stringify(manifest, null, 2))
  assert.deepEqual(await loadManifest(path), manifest)
  writeFileSync(join(dir, 'broken.manifest.json'), '{"schemaVersion": 1, "name": "Bad Name"}')
  const listed = await listManifests(dir)
  assert.deepEqual(listed.manifests, [manifest])
  assert.equal(listed.errors.length, 1)
  assert.throws(() => parseManifest({ ...manifest, file: { ...manifest.file, sha256: 'XYZ' } }), InvalidManifestError)
  assert.throws(() => parseManifest({ ...manifest, provenance: { kind: 'trained', seed: 1 } }), /provenance/)
  await assert.rejects(loadManifest(join(dir, 'missing.manifest.json')), InvalidManifestError)
})

test('a trained-model manifest with corpus, commit, losses and evaluation validates', () => {
  const trained = parseManifest({
    ...manifest,
    name: 'commons-demo',
    provenance: {
      kind: 'trained',
      corpus: { name: 'Webster 1913', license: 'public-domain', sha256: 'a'.repeat(64), source: 'data/webster.txt', bytes: 1_000_000 },
      codeCommit: 'abcdef1',
      seed: 1,
      steps: 1000,
      wallTimeSeconds: 3600,
      trainLoss: 2.1,
      validationLoss: 2.3,
    },
    evaluation: { metrics: { validationBitsPerByte: 2.0, xzBitsPerByte: 2.4, corpusWordRate: 0.8 }, samples: ['the house'] },
  })
  assert.equal(trained.provenance.kind, 'trained')
})

test('manifestHash is the sha256 of the canonical JSON, independent of key order', () => {
  const reverseKeys = (v: unknown): unknown =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]))
      : v
  const reordered = reverseKeys(manifest) as ModelManifest
  assert.notEqual(JSON.stringify(reordered), JSON.stringify(manifest))
  assert.equal(manifestHash(reordered), manifestHash(manifest))
  assert.notEqual(manifestHash({ ...manifest, version: '2' }), manifestHash(manifest))
  assert.match(manifestHash(manifest), /^[0-9a-f]{64}$/)
})
