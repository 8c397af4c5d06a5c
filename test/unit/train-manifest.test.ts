// The committed demo model matches its manifest (size, sha256, GGUF metadata), and the manifest
// records the committed corpus.
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { loadManifest, verifyManifest } from '../../src/models/index.js'
import { CORPUS_SHA256 } from '../../src/training/corpus.js'

test('models/commons-demo.manifest.json describes models/commons-demo.gguf', async () => {
  const manifest = await loadManifest('models/commons-demo.manifest.json')
  const bytes = readFileSync('models/commons-demo.gguf')
  assert.equal(manifest.file.size, statSync('models/commons-demo.gguf').size)
  assert.equal(manifest.file.sha256, createHash('sha256').update(bytes).digest('hex'))
  assert.ok(bytes.length <= 20 * 1024 * 1024)
  await verifyManifest(manifest, 'models/commons-demo.gguf')
  assert.equal(manifest.provenance.kind, 'trained')
  if (manifest.provenance.kind === 'trained') assert.equal(manifest.provenance.corpus.sha256, CORPUS_SHA256)
  assert.equal(createHash('sha256').update(readFileSync('data/kjv.txt')).digest('hex'), CORPUS_SHA256)
  const m = manifest.evaluation!.metrics
  assert.ok(m.validationBitsPerByte! < m.xz9BitsPerByte!)
  assert.ok(m.sampleCorpusWordRatio! >= 0.7)
})
