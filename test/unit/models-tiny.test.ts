import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { getLlama, LlamaLogLevel } from 'node-llama-cpp'
import { sha256Hex } from '../../src/identity/index.js'
import { metadataValue, openGguf } from '../../src/models/gguf/index.js'
import { ensureTinyModel, getTinyTokenizer, writeTinyModel } from '../../src/models/tiny.js'
import { readTokenizerSpec } from '../../src/models/tokenizer/index.js'

const dir = mkdtempSync(join(tmpdir(), 'models-tiny-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('same seed gives a byte-identical file; another seed gives different weights', async () => {
  await writeTinyModel(join(dir, 'a.gguf'), { seed: 7 })
  await writeTinyModel(join(dir, 'b.gguf'), { seed: 7 })
  await writeTinyModel(join(dir, 'c.gguf'), { seed: 8 })
  const a = readFileSync(join(dir, 'a.gguf'))
  assert.equal(sha256Hex(a), sha256Hex(readFileSync(join(dir, 'b.gguf'))))
  assert.notEqual(sha256Hex(a), sha256Hex(readFileSync(join(dir, 'c.gguf'))))
})

test('the tiny model is a valid llama GGUF our reader accepts, with its tokenizer inside', () => {
  const f = openGguf(join(dir, 'a.gguf'))
  try {
    assert.equal(metadataValue(f, 'general.architecture'), 'llama')
    assert.equal(metadataValue(f, 'llama.block_count'), 2)
    assert.equal(metadataValue(f, 'llama.embedding_length'), 64)
    assert.equal(metadataValue(f, 'llama.context_length'), 2048)
    assert.equal(f.tensors.length, 3 + 2 * 9)
    assert.deepEqual(f.tensors.find((t) => t.name === 'token_embd.weight')?.shape, [getTinyTokenizer().vocabSize, 64])
    assert.deepEqual(readTokenizerSpec(f), getTinyTokenizer().spec)
    const norm = f.tensorF32('blk.1.ffn_norm.weight')
    assert.ok(norm.every((x) => x === 1))
  } finally {
    f.close()
  }
})

test('ensureTinyModel writes once and reports the file hash', async () => {
  const cache = join(dir, 'cache')
  const first = await ensureTinyModel(cache)
  const second = await ensureTinyModel(cache)
  assert.deepEqual(first, second)
  assert.equal(first.sha256, sha256Hex(readFileSync(first.path)))
  assert.equal(first.size, readFileSync(first.path).length)
})

test('node-llama-cpp loads the tiny model without warnings and generates tokens', async () => {
  const logs: string[] = []
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      if (level === LlamaLogLevel.warn || level === LlamaLogLevel.error) logs.push(message)
    },
  })
  try {
    const model = await llama.loadModel({ modelPath: join(dir, 'a.gguf') })
    const tok = getTinyTokenizer()
    assert.equal(model.tokens.bos, tok.bosId)
    assert.equal(model.tokens.eos, tok.eosId)
    assert.equal(model.fileInfo.metadata.general.architecture, 'llama')
    // One thread: on a shared, loaded CPU llama.cpp's spinning worker threads slow decoding ~100×.
    const context = await model.createContext({ contextSize: 128, threads: 1 })
    const sequence = context.getSequence()
    const prompt = model.tokenize('Hello world')
    const generated: number[] = []
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
      generated.push(token)
      if (generated.length === 8) break
    }
    assert.equal(generated.length, 8)
    assert.ok(generated.every((t) => Number.isInteger(t) && t >= 0 && t < tok.vocabSize))
    await context.dispose()
    await model.dispose()
    assert.deepEqual(logs.filter((m) => !/^\s*$/.test(m)), [])
  } finally {
    await llama.dispose()
  }
})
