// Training determinism on a tiny config: same seed ⇒ same weights hash; a run killed after a
// checkpoint and resumed ends bit-identical to an uninterrupted one.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { train } from '../../src/training/trainer.js'
import { hash32 } from '../../src/training/rng.js'
import type { ModelConfig, TrainConfig } from '../../src/training/config.js'
import { CheckpointError } from '../../src/training/errors.js'

const model: ModelConfig = { vocabSize: 300, dim: 32, nLayers: 1, nHeads: 2, ffnDim: 64, contextLength: 16, rmsEps: 1e-5, ropeTheta: 10000 }
const cfg: TrainConfig = {
  seed: 7, steps: 6, batchSize: 2, lr: 1e-2, minLrRatio: 0.1, warmupSteps: 2, weightDecay: 0.1,
  beta1: 0.9, beta2: 0.95, adamEps: 1e-8, clipNorm: 1, checkpointEvery: 3, evalEvery: 100,
}
// A token stream with structure to learn (a repeating pattern with noise).
const tokens = Int32Array.from({ length: 4000 }, (_, i) => (i % 7 === 0 ? hash32(1, 2, i) % 300 : (i * 13) % 50))
const dir = mkdtempSync(join(tmpdir(), 'commons-train-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('same seed gives the same weights; another seed does not; loss goes down', async () => {
  const a = await train({ model, train: cfg, tokens })
  const b = await train({ model, train: cfg, tokens })
  const c = await train({ model, train: { ...cfg, seed: 8 }, tokens })
  assert.equal(a.weightsSha256, b.weightsSha256)
  assert.deepEqual(a.losses, b.losses)
  assert.notEqual(a.weightsSha256, c.weightsSha256)
  assert.ok(a.losses.at(-1)! < a.losses[0]!, `loss ${a.losses[0]} → ${a.losses.at(-1)}`)
})

test('resume from a checkpoint equals an uninterrupted run', async () => {
  const straight = await train({ model, train: cfg, tokens })
  const path = join(dir, 'ckpt.bin')
  const first = await train({ model, train: cfg, tokens, checkpointPath: path, stopAtStep: 3 })
  assert.equal(first.step, 3)
  const resumed = await train({ model, train: cfg, tokens, checkpointPath: path })
  assert.equal(resumed.step, 6)
  assert.equal(resumed.weightsSha256, straight.weightsSha256)
  assert.deepEqual(resumed.losses, straight.losses)
})

test('a checkpoint of another run is refused', async () => {
  const path = join(dir, 'other.bin')
  await train({ model, train: cfg, tokens, checkpointPath: path, stopAtStep: 3 })
  await assert.rejects(train({ model, train: { ...cfg, seed: 99 }, tokens, checkpointPath: path }), CheckpointError)
})
