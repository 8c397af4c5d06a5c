// Parity: next-token distributions of the committed demo GGUF under node-llama-cpp (llama.cpp)
// equal our training framework's forward pass on the very weights in the file (Q8_0,
// dequantized). Compared as log-probabilities (logits up to llama.cpp's per-row shift).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getLlamaCollectingWarnings } from '../helpers/llama-with-warnings.js'
import { DEMO_MODEL } from '../../src/training/config.js'
import { paramsFromGguf } from '../../src/training/gguf-weights.js'
import { initBackend, tf } from '../../src/training/backend.js'
import { forward, toVariables } from '../../src/training/model.js'
import { exportGguf } from '../../src/training/export.js'
import { openGguf, readTokenizerSpec } from '../../src/models/index.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const MODEL = 'models/commons-demo.gguf'
const PROMPTS = ['And God said, Let there be light', 'In the beginning', 'The LORD is my shepherd; I shall not', 'Jesus wept.\nAnd']

function ourLogProbs(params: ReturnType<typeof toVariables>, ids: number[]): Float32Array {
  return tf.tidy(() => {
    const logits = forward(DEMO_MODEL, params, tf.tensor1d(Int32Array.from(ids), 'int32'), 1, ids.length)
    const last = tf.slice(logits, [ids.length - 1, 0], [1, DEMO_MODEL.vocabSize])
    return tf.logSoftmax(last).dataSync() as Float32Array
  })
}

/** Max |Δ log p| between llama.cpp on `path` and our forward pass on the file's weights. */
async function parity(path: string): Promise<number> {
  await initBackend()
  const params = toVariables(DEMO_MODEL, paramsFromGguf(path, DEMO_MODEL))
  const { llama, warnings } = await getLlamaCollectingWarnings()
  try {
    const model = await llama.loadModel({ modelPath: path })
    let worst = 0
    for (const prompt of PROMPTS) {
      const context = await model.createContext({ contextSize: DEMO_MODEL.contextLength, threads: 1 })
      const ids = model.tokenize(prompt)
      const ours = ourLogProbs(params, ids as number[])
      const it = context.getSequence().evaluateWithMetadata(ids, { probabilities: true }, { temperature: 1, topK: 0, topP: 1, minP: 0 })
      const first = await it.next()
      await it.return()
      assert.ok(!first.done)
      const probs = first.value.probabilities
      // Every token llama.cpp gives a non-negligible probability must match ours in log space.
      let compared = 0
      for (const [token, p] of probs) {
        if (p < 1e-4) continue
        worst = Math.max(worst, Math.abs(Math.log(p) - ours[token as number]!))
        compared++
      }
      assert.ok(compared >= 5, `only ${compared} tokens compared for ${JSON.stringify(prompt)}`)
      const ourTop = ours.indexOf(Math.max(...ours))
      const theirTop = [...probs].sort((a, b) => b[1] - a[1])[0]![0]
      assert.equal(theirTop, ourTop, `greedy token differs for ${JSON.stringify(prompt)}`)
      await context.dispose()
    }
    console.log(JSON.stringify({ parity: { path, maxAbsLogProbDiff: worst } }))
    await model.dispose()
    assert.deepEqual(warnings, [])
    return worst
  } finally {
    await llama.dispose()
    for (const v of params.values()) v.dispose()
  }
}

test('F16 export: llama.cpp next-token log-probs equal our forward pass within 1e-2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'commons-parity-'))
  try {
    const path = join(dir, 'demo-f16.gguf')
    const shipped = openGguf(MODEL)
    const tokenizer = readTokenizerSpec(shipped)
    shipped.close()
    await exportGguf(path, { name: 'commons-demo-f16', cfg: DEMO_MODEL, params: paramsFromGguf(MODEL, DEMO_MODEL), tokenizer, type: 'F16' })
    const worst = await parity(path)
    assert.ok(worst <= 1e-2, `max |Δ log p| = ${worst}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// llama.cpp's Q8_0 matmuls also quantize the activations to Q8_0 (ggml vec_dot_q8_0_q8_0), and its
// KV cache is F16, so the shipped Q8_0 file gets a slightly looser bound than F16.
test('shipped Q8_0 model: llama.cpp log-probs equal our forward on the dequantized weights within 5e-2', async () => {
  const worst = await parity(MODEL)
  assert.ok(worst <= 5e-2, `max |Δ log p| = ${worst}`)
})
