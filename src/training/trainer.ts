/**
 * The training loop: AdamW (Loshchilov & Hutter 2019, decoupled weight decay on matrices),
 * warmup + cosine learning rate, global-norm gradient clipping, on the wasm backend.
 *
 * Determinism: initialization and batches are counter-based functions of (seed, step), the
 * wasm kernels are single-threaded, and a checkpoint holds everything else (weights, moments,
 * step) — so a resumed run is bit-identical to an uninterrupted one, and `--quick` (the first
 * steps of the full configuration, same LR schedule) reproduces the full run's first steps.
 */
import { tf, initBackend } from './backend.js'
import { learningRate, type ModelConfig, type TrainConfig } from './config.js'
import { crossEntropy, forward, fromVariables, initParams, paramShapes, toVariables, type Params } from './model.js'
import { hash32 } from './rng.js'
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.js'
import { CheckpointError } from './errors.js'
import { sha256Hex } from '../identity/index.js'
import { createHash } from 'node:crypto'

/** RNG stream used for batch sampling (parameter init uses streams 0..n_params−1). */
const DATA_STREAM = 0x0da7a

/** Reported after every optimizer step. */
export interface StepInfo {
  step: number
  totalSteps: number
  loss: number
  lr: number
  gradNorm: number
  tokensPerSecond: number
  valLoss?: number
}

/** Inputs of a training run. */
export interface TrainOptions {
  model: ModelConfig
  train: TrainConfig
  /** Training token stream. */
  tokens: Int32Array
  /** Validation token stream (evaluated every `evalEvery` steps and at the end). */
  valTokens?: Int32Array
  /** Checkpoint file; resumed from when it exists and belongs to this run. */
  checkpointPath?: string
  /** Stop after this many total steps (default `train.steps`); the schedule still spans `train.steps`. */
  stopAtStep?: number
  onStep?: (info: StepInfo) => void
  signal?: AbortSignal
}

/** What a training run returns. */
export interface TrainResult {
  params: Map<string, Float32Array>
  step: number
  losses: number[]
  wallSeconds: number
  weightsSha256: string
  runId: string
  valLoss?: number
}

/** sha256 over all parameters' float32 bytes in `paramShapes` order. */
export function weightsHash(cfg: ModelConfig, params: Map<string, Float32Array>): string {
  const h = createHash('sha256')
  for (const [name] of paramShapes(cfg)) {
    const a = params.get(name)!
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  }
  return h.digest('hex')
}

/** Identity of a run: configs + training data; checkpoints of other runs are refused. */
export function runIdOf(model: ModelConfig, train: TrainConfig, tokens: Int32Array): string {
  const { checkpointEvery: _c, evalEvery: _e, ...schedule } = train
  const data = sha256Hex(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength))
  return sha256Hex(JSON.stringify({ model, schedule, data })).slice(0, 16)
}

/** Input ids and next-token targets for batch `step` (B windows of T+1 tokens). */
export function sampleBatch(tokens: Int32Array, seed: number, step: number, B: number, T: number): { ids: Int32Array; targets: Int32Array } {
  const ids = new Int32Array(B * T)
  const targets = new Int32Array(B * T)
  const range = tokens.length - T - 1
  for (let b = 0; b < B; b++) {
    const start = hash32(seed, DATA_STREAM, step * B + b) % range
    ids.set(tokens.subarray(start, start + T), b * T)
    targets.set(tokens.subarray(start + 1, start + T + 1), b * T)
  }
  return { ids, targets }
}

/** Mean cross-entropy (nats/token) over consecutive non-overlapping windows of `tokens`. */
export function evaluateLoss(cfg: ModelConfig, params: Params, tokens: Int32Array, maxWindows = Infinity, batch = 8): number {
  const T = cfg.contextLength
  const windows = Math.min(maxWindows, Math.floor((tokens.length - 1) / T))
  let total = 0
  for (let w0 = 0; w0 < windows; w0 += batch) {
    const B = Math.min(batch, windows - w0)
    const ids = new Int32Array(B * T)
    const targets = new Int32Array(B * T)
    for (let b = 0; b < B; b++) {
      const start = (w0 + b) * T
      ids.set(tokens.subarray(start, start + T), b * T)
      targets.set(tokens.subarray(start + 1, start + T + 1), b * T)
    }
    const loss = tf.tidy(() => crossEntropy(forward(cfg, params, tf.tensor1d(ids, 'int32'), B, T), tf.tensor1d(targets, 'int32'), cfg.vocabSize))
    total += loss.dataSync()[0]! * B
    loss.dispose()
  }
  return total / windows
}

/** Runs (or resumes) training. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  await initBackend()
  const { model, train: tc } = opts
  const T = model.contextLength
  const B = tc.batchSize
  const stopAt = Math.min(opts.stopAtStep ?? tc.steps, tc.steps)
  const runId = runIdOf(model, tc, opts.tokens)
  const names = paramShapes(model).map(([n]) => n)

  let start: Checkpoint | undefined = opts.checkpointPath ? loadCheckpoint(opts.checkpointPath) : undefined
  if (start && start.header.runId !== runId) {
    throw new CheckpointError(`checkpoint ${opts.checkpointPath} belongs to run ${start.header.runId}, not ${runId}; delete it or use another path`)
  }
  if (start && start.header.step > stopAt) start = undefined
  const initial = start?.params ?? initParams(model, tc.seed)
  const params = toVariables(model, initial)
  const zeros = (name: string) => new Float32Array(initial.get(name)!.length)
  const m = new Map(names.map((n) => [n, tf.variable(tf.tensor(start?.m.get(n) ?? zeros(n), params.get(n)!.shape), false)]))
  const v = new Map(names.map((n) => [n, tf.variable(tf.tensor(start?.v.get(n) ?? zeros(n), params.get(n)!.shape), false)]))
  const losses = start ? start.header.losses.slice() : []
  let step = start?.header.step ?? 0
  const wallBefore = start?.header.wallSeconds ?? 0
  const t0 = performance.now()
  let valLoss: number | undefined

  const checkpoint = () => {
    if (!opts.checkpointPath) return
    const read = (map: Map<string, tf.Variable>) => new Map(names.map((n) => [n, map.get(n)!.dataSync() as Float32Array]))
    saveCheckpoint(opts.checkpointPath, {
      header: { step, runId, names, sizes: names.map((n) => params.get(n)!.size), losses, wallSeconds: wallBefore + (performance.now() - t0) / 1000 },
      params: read(params),
      m: read(m),
      v: read(v),
    })
  }

  try {
    while (step < stopAt) {
      // Yield to the event loop so signal handlers (SIGINT → abort) can run between steps.
      await new Promise((resolve) => setImmediate(resolve))
      if (opts.signal?.aborted) {
        checkpoint() // a graceful stop keeps every finished step
        break
      }
      const stepStart = performance.now()
      const batch = sampleBatch(opts.tokens, tc.seed, step, B, T)
      const idsT = tf.tensor1d(batch.ids, 'int32')
      const targetsT = tf.tensor1d(batch.targets, 'int32')
      const { value, grads } = tf.variableGrads(() => crossEntropy(forward(model, params, idsT, B, T), targetsT, model.vocabSize))
      const loss = value.dataSync()[0]!
      const sq = tf.tidy(() => tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!)))))
      const gradNorm = Math.sqrt(sq.dataSync()[0]!)
      sq.dispose()
      const scale = gradNorm > tc.clipNorm ? tc.clipNorm / gradNorm : 1
      const lr = learningRate(tc, step)
      const t = step + 1
      const bc1 = 1 - Math.pow(tc.beta1, t)
      const bc2 = 1 - Math.pow(tc.beta2, t)
      tf.tidy(() => {
        for (const n of names) {
          const p = params.get(n)!
          const g = tf.mul(grads[n]!, scale)
          const mn = tf.add(tf.mul(m.get(n)!, tc.beta1), tf.mul(g, 1 - tc.beta1))
          const vn = tf.add(tf.mul(v.get(n)!, tc.beta2), tf.mul(tf.square(g), 1 - tc.beta2))
          m.get(n)!.assign(mn)
          v.get(n)!.assign(vn)
          const update = tf.div(tf.div(mn, bc1), tf.add(tf.sqrt(tf.div(vn, bc2)), tc.adamEps))
          // Decoupled weight decay on matrices only (norm gains are not decayed).
          const decay = p.shape.length > 1 ? tf.mul(p, tc.weightDecay) : tf.zerosLike(p)
          p.assign(tf.sub(p, tf.mul(tf.add(update, decay), lr)))
        }
      })
      value.dispose()
      for (const g of Object.values(grads)) g.dispose()
      idsT.dispose()
      targetsT.dispose()
      losses.push(loss)
      step++
      let info: StepInfo = { step, totalSteps: tc.steps, loss, lr, gradNorm, tokensPerSecond: (B * T * 1000) / (performance.now() - stepStart) }
      if (opts.valTokens && (step % tc.evalEvery === 0 || step === stopAt)) {
        valLoss = evaluateLoss(model, params, opts.valTokens, 16)
        info = { ...info, valLoss }
      }
      opts.onStep?.(info)
      if (step % tc.checkpointEvery === 0 || step === stopAt) checkpoint()
    }
    const out = fromVariables(model, params)
    return {
      params: out,
      step,
      losses,
      wallSeconds: wallBefore + (performance.now() - t0) / 1000,
      weightsSha256: weightsHash(model, out),
      runId,
      ...(valLoss === undefined ? {} : { valLoss }),
    }
  } finally {
    for (const map of [params, m, v]) for (const x of map.values()) x.dispose()
  }
}
