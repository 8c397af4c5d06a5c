/**
 * Hyperparameters of the demo model and of its training run. The model side mirrors the GGUF
 * `llama.*` keys llama.cpp reads, so the exported file computes exactly what we trained.
 */
import { z } from 'zod'

/** Architecture (llama): RMSNorm → attention with "normal" RoPE → RMSNorm → SwiGLU, tied output. */
export const ModelConfigSchema = z.object({
  vocabSize: z.number().int().min(257),
  dim: z.number().int().positive(),
  nLayers: z.number().int().positive(),
  nHeads: z.number().int().positive(),
  ffnDim: z.number().int().positive(),
  /** Training (and GGUF `context_length`) window in tokens. */
  contextLength: z.number().int().positive(),
  /** GGUF `llama.attention.layer_norm_rms_epsilon`. */
  rmsEps: z.number().positive(),
  /** GGUF `llama.rope.freq_base`. */
  ropeTheta: z.number().positive(),
})
export type ModelConfig = z.infer<typeof ModelConfigSchema>

/** Optimization: AdamW, linear warmup then cosine decay to `minLrRatio·lr`, global-norm clipping. */
export const TrainConfigSchema = z.object({
  seed: z.number().int().nonnegative(),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  lr: z.number().positive(),
  minLrRatio: z.number().min(0).max(1),
  warmupSteps: z.number().int().nonnegative(),
  weightDecay: z.number().min(0),
  beta1: z.number().min(0).max(1),
  beta2: z.number().min(0).max(1),
  adamEps: z.number().positive(),
  clipNorm: z.number().positive(),
  checkpointEvery: z.number().int().positive(),
  evalEvery: z.number().int().positive(),
})
export type TrainConfig = z.infer<typeof TrainConfigSchema>

/** The shipped model's architecture. */
export const DEMO_MODEL: ModelConfig = {
  vocabSize: 2048,
  dim: 128,
  nLayers: 4,
  nHeads: 4,
  ffnDim: 352,
  contextLength: 256,
  rmsEps: 1e-5,
  ropeTheta: 10000,
}

/** The shipped model's full training run. `--quick` runs its first steps only. */
export const DEMO_TRAIN: TrainConfig = {
  seed: 1611,
  steps: 300,
  batchSize: 8,
  lr: 2e-3,
  minLrRatio: 0.1,
  warmupSteps: 20,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  adamEps: 1e-8,
  clipNorm: 1.0,
  checkpointEvery: 10,
  evalEvery: 65,
}

/** Number of steps `npm run train -- --quick` runs (the full run's first steps, bit for bit). */
export const QUICK_STEPS = 15

/** Learning rate at 0-based `step`: linear warmup, then cosine to minLrRatio·lr at the last step. */
export function learningRate(cfg: TrainConfig, step: number): number {
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps
  const progress = (step - cfg.warmupSteps) / Math.max(1, cfg.steps - cfg.warmupSteps)
  const cosine = 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)))
  return cfg.lr * (cfg.minLrRatio + (1 - cfg.minLrRatio) * cosine)
}
