import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadLlamaEngine } from '../../src/runtime/llama-engine.js'
import { ModelLoadError, ModelNotFoundError } from '../../src/runtime/errors.js'
import { LocalInferenceService } from '../../src/runtime/local-service.js'
import { renderDefaultChatTemplate } from '../../src/runtime/chat-template.js'
import { buildLlamaGguf } from '../../src/models/llama-arch.js'
import { seededWeights } from '../../src/models/random-weights.js'
import { ensureTinyModel, getTinyTokenizer, tinyHyperparameters } from '../../src/models/tiny.js'
import { GgmlType } from '../../src/models/gguf/constants.js'
import { baseParams, runEngineSuite } from './runtime-engine-suite.js'

const modelDir = mkdtempSync(join(tmpdir(), 'commons-runtime-model-'))
after(() => rmSync(modelDir, { recursive: true, force: true }))
const { path: modelPath } = await ensureTinyModel(modelDir)

// One decode thread: on a shared 2-core machine, llama.cpp's spinning thread barrier collapses
// under contention, and results are bit-identical across thread counts anyway (DESIGN.md).
runEngineSuite({
  name: 'llama engine',
  create: ({ parallel, maxQueue, contextSize }) =>
    loadLlamaEngine({ modelPath, name: 'tiny', parallel, maxQueue, contextSize, threads: 1 }),
})

test('llama engine: missing and corrupt model files give ModelLoadError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'commons-runtime-'))
  try {
    await assert.rejects(loadLlamaEngine({ modelPath: join(dir, 'absent.gguf'), name: 'x' }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError)
      assert.match(error.message, /absent\.gguf: file not found/)
      return true
    })
    const corrupt = join(dir, 'corrupt.gguf')
    writeFileSync(corrupt, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(64, 0xab)]))
    await assert.rejects(loadLlamaEngine({ modelPath: corrupt, name: 'x' }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError)
      assert.match(error.message, /corrupt\.gguf: not a valid GGUF model/)
      return true
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('LocalInferenceService: finds engines by name or sha256, renders chat, reports servedBy', async () => {
  const engine = await loadLlamaEngine({ modelPath, name: 'tiny', parallel: 1, contextSize: 256, threads: 1 })
  try {
    const service = new LocalInferenceService('ab'.repeat(32), [engine])
    assert.deepEqual(service.listModels().map((m) => [m.info.name, m.local]), [['tiny', true]])
    const params = { ...baseParams, maxTokens: 6 }
    const byName = await service.generate({ model: 'tiny', prompt: { kind: 'completion', prompt: 'the water' }, params })
    const bySha = await service.generate({ model: engine.model.sha256, prompt: { kind: 'completion', prompt: 'the water' }, params })
    assert.equal(byName.servedBy, 'ab'.repeat(32))
    assert.equal(byName.model, 'tiny')
    assert.deepEqual(bySha.tokens, byName.tokens)
    await assert.rejects(
      service.generate({ model: 'nope', prompt: { kind: 'completion', prompt: 'x' }, params }),
      (error: unknown) => error instanceof ModelNotFoundError && error.status === 404 && error.code === 'model_not_found',
    )
    const messages = [{ role: 'user' as const, content: 'hi' }]
    const rendered = engine.applyChatTemplate(messages)
    assert.ok(rendered.length > 0)
    const chat = await service.generate({ model: 'tiny', prompt: { kind: 'chat', messages }, params })
    const direct = await engine.generate({ prompt: rendered, params: { ...params, stop: [...(engine.chatStop ?? [])] } })
    assert.deepEqual(chat.tokens, direct.tokens)
    assert.equal(chat.promptTokens, direct.promptTokens)
  } finally {
    await engine.unload()
  }
})

test('default chat template is ChatML ending with the assistant prompt', () => {
  assert.equal(
    renderDefaultChatTemplate([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
  )
})

test("llama engine: a model's own chat template (tokenizer.chat_template) is used through node-llama-cpp", async () => {
  const path = join(modelDir, 'with-template.gguf')
  const tokenizer = getTinyTokenizer()
  const template =
    "{% for m in messages %}<{{ m['role'] }}>\n{{ m['content'] }}</s>\n{% endfor %}{% if add_generation_prompt %}<assistant>\n{% endif %}"
  await buildLlamaGguf({
    name: 'tiny-with-template',
    hparams: tinyHyperparameters(tokenizer.vocabSize),
    tokenizer,
    weights: seededWeights(0),
    matrixType: GgmlType.Q8_0,
  })
    .setString('tokenizer.chat_template', template)
    .writeFile(path)
  const engine = await loadLlamaEngine({ modelPath: path, name: 'templated', parallel: 1, contextSize: 256, threads: 1 })
  try {
    const rendered = engine.applyChatTemplate([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ])
    assert.equal(rendered, '<system>\nBe brief.</s>\n<user>\nHi</s>\n<assistant>\n')
    assert.deepEqual(engine.chatStop, [])
  } finally {
    await engine.unload()
  }
})
