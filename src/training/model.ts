/**
 * The demo model's forward pass in TensorFlow.js, written to compute exactly what llama.cpp's
 * `llm_build_llama` computes for the exported GGUF:
 *
 *   h = token_embd[x]
 *   for each layer: h += W_o · attn(rope(W_q·n), rope(W_k·n), W_v·n), n = rmsnorm(h)·attn_norm
 *                   h += W_down · (silu(W_gate·n) ⊙ W_up·n),          n = rmsnorm(h)·ffn_norm
 *   logits = token_embd · (rmsnorm(h)·output_norm)        (tied output, no `output.weight`)
 *
 * rmsnorm(x) = x / sqrt(mean(x²) + eps); attention is causal softmax(q·kᵀ/√head_dim)·v;
 * RoPE is llama.cpp's "normal" mode (LLAMA_ROPE_TYPE_NORM): it rotates ADJACENT pairs
 * (2i, 2i+1) by pos·θ^(−2i/head_dim), so no q/k permutation is needed at export (the permute in
 * convert_hf_to_gguf.py only converts HF's half-split "neox" layout into this one).
 *
 * Matrices are stored as [n_in, n_out] (y = x·W); the GGUF writer transposes them to ggml's
 * [n_out rows × n_in columns].
 */
import { tf } from './backend.js'
import type { ModelConfig } from './config.js'
import { normal } from './rng.js'
import { ModelShapeError } from './errors.js'
import { causalAttention } from './attention.js'

/** Parameter tensors by GGUF tensor name. */
export type Params = Map<string, tf.Variable>

/** Shape of every parameter, in a fixed order (the order of checkpoints and hashes). */
export function paramShapes(cfg: ModelConfig): Array<[string, number[]]> {
  const { vocabSize: V, dim: d, ffnDim: f, nLayers } = cfg
  const shapes: Array<[string, number[]]> = [['token_embd.weight', [V, d]]]
  for (let i = 0; i < nLayers; i++) {
    shapes.push(
      [`blk.${i}.attn_norm.weight`, [d]],
      [`blk.${i}.attn_q.weight`, [d, d]],
      [`blk.${i}.attn_k.weight`, [d, d]],
      [`blk.${i}.attn_v.weight`, [d, d]],
      [`blk.${i}.attn_output.weight`, [d, d]],
      [`blk.${i}.ffn_norm.weight`, [d]],
      [`blk.${i}.ffn_gate.weight`, [d, f]],
      [`blk.${i}.ffn_up.weight`, [d, f]],
      [`blk.${i}.ffn_down.weight`, [f, d]],
    )
  }
  shapes.push(['output_norm.weight', [d]])
  return shapes
}

/**
 * Deterministic initialization from `seed`: norms = 1, matrices ~ N(0, 0.02²), residual output
 * projections (attn_output, ffn_down) scaled by 1/√(2·n_layers) (GPT-2 §2.3).
 */
export function initParams(cfg: ModelConfig, seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  paramShapes(cfg).forEach(([name, shape], stream) => {
    const size = shape.reduce((a, b) => a * b, 1)
    const data = new Float32Array(size)
    if (shape.length === 1) data.fill(1)
    else {
      const residual = name.endsWith('attn_output.weight') || name.endsWith('ffn_down.weight')
      const std = residual ? 0.02 / Math.sqrt(2 * cfg.nLayers) : 0.02
      for (let i = 0; i < size; i++) data[i] = std * normal(seed, stream, i)
    }
    out.set(name, data)
  })
  return out
}

/** Wraps raw arrays as trainable variables (shapes checked against the config). */
export function toVariables(cfg: ModelConfig, arrays: Map<string, Float32Array>): Params {
  const params: Params = new Map()
  for (const [name, shape] of paramShapes(cfg)) {
    const data = arrays.get(name)
    const size = shape.reduce((a, b) => a * b, 1)
    if (!data || data.length !== size) throw new ModelShapeError(`parameter ${name}: expected ${size} values, got ${data?.length}`)
    params.set(name, tf.variable(tf.tensor(data, shape), true, name))
  }
  return params
}

/** Copies variables out to plain arrays (in paramShapes order). */
export function fromVariables(cfg: ModelConfig, params: Params): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  for (const [name] of paramShapes(cfg)) out.set(name, params.get(name)!.dataSync() as Float32Array)
  return out
}

/** Constant tensors that depend only on the config and sequence length. */
interface RopeTables {
  cos: tf.Tensor
  sin: tf.Tensor
  rotate: tf.Tensor2D
  mask: tf.Tensor2D
}
const ropeCache = new Map<string, RopeTables>()

function ropeTables(cfg: ModelConfig, T: number): RopeTables {
  const key = `${cfg.dim / cfg.nHeads}:${cfg.ropeTheta}:${T}`
  let tables = ropeCache.get(key)
  if (tables) return tables
  const hd = cfg.dim / cfg.nHeads
  const cos = new Float32Array(T * hd)
  const sin = new Float32Array(T * hd)
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < hd / 2; i++) {
      const angle = t * Math.pow(cfg.ropeTheta, (-2 * i) / hd)
      cos[t * hd + 2 * i] = cos[t * hd + 2 * i + 1] = Math.cos(angle)
      sin[t * hd + 2 * i] = sin[t * hd + 2 * i + 1] = Math.sin(angle)
    }
  }
  // rotate(x)[2i] = −x[2i+1], rotate(x)[2i+1] = x[2i], as x·R.
  const rot = new Float32Array(hd * hd)
  for (let i = 0; i < hd / 2; i++) {
    rot[(2 * i + 1) * hd + 2 * i] = -1
    rot[2 * i * hd + 2 * i + 1] = 1
  }
  const mask = new Float32Array(T * T)
  for (let q = 0; q < T; q++) for (let k = q + 1; k < T; k++) mask[q * T + k] = -1e9
  tables = tf.tidy(() => ({
    cos: tf.keep(tf.tensor(cos, [T, 1, hd])),
    sin: tf.keep(tf.tensor(sin, [T, 1, hd])),
    rotate: tf.keep(tf.tensor2d(rot, [hd, hd])),
    mask: tf.keep(tf.tensor2d(mask, [T, T])),
  }))
  ropeCache.set(key, tables)
  return tables
}

function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true)
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight)
}

/** Embedding lookup whose gradient is a scatter-add (the wasm backend lacks UnsortedSegmentSum). */
function embed(table: tf.Tensor, ids: tf.Tensor1D): tf.Tensor2D {
  const f = tf.customGrad((...inputs: Array<tf.Tensor | ((save: tf.Tensor[]) => void)>) => {
    const e = inputs[0] as tf.Tensor
    return {
      value: tf.gather(e, ids),
      gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.expandDims(ids, 1), dy, e.shape),
    }
  })
  return f(table) as tf.Tensor2D
}

/**
 * 2-D matmul a·b whose gradients are also plain (untransposed) 2-D matmuls. The wasm backend
 * only sends untransposed, unbatched matmuls to XNNPACK: on this machine transposed or batched
 * ones ran ~10× slower (0.5 vs 5.7 GFLOP/s), so transposes are done explicitly.
 */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...inputs: Array<tf.Tensor | ((save: tf.Tensor[]) => void)>) => {
    const x = inputs[0] as tf.Tensor2D
    const y = inputs[1] as tf.Tensor2D
    ;(inputs[2] as (save: tf.Tensor[]) => void)([x, y])
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1] as tf.Tensor2D)),
        tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy as tf.Tensor2D),
      ],
    }
  })
  return f(a, b) as tf.Tensor2D
}

/**
 * Logits [B·T, V] for token ids [B·T] (B sequences of T tokens, positions 0..T−1 each).
 * Call inside tf.tidy (or variableGrads).
 */
export function forward(cfg: ModelConfig, p: Params, ids: tf.Tensor1D, B: number, T: number): tf.Tensor2D {
  const { dim: d, nHeads: H, rmsEps: eps } = cfg
  const hd = d / H
  const w = (name: string): tf.Tensor => {
    const v = p.get(name)
    if (!v) throw new ModelShapeError(`missing parameter ${name}`)
    return v
  }
  const { cos, sin, rotate, mask } = ropeTables(cfg, T)
  const rope = (x: tf.Tensor): tf.Tensor => {
    const rotated = tf.reshape(tf.matMul(tf.reshape(x, [-1, hd]), rotate), [B, T, H, hd])
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin))
  }
  let h = embed(w('token_embd.weight'), ids) // [B·T, d]
  const W = (name: string) => w(name) as tf.Tensor2D
  // [B·T, d] → [B·H, T, hd] (slice b·H + head).
  const splitHeads = (x: tf.Tensor): tf.Tensor3D => tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd])
  for (let l = 0; l < cfg.nLayers; l++) {
    const n = rmsNorm(h, w(`blk.${l}.attn_norm.weight`), eps) as tf.Tensor2D
    const q = splitHeads(rope(tf.reshape(mm(n, W(`blk.${l}.attn_q.weight`)), [B, T, H, hd])))
    const k = splitHeads(rope(tf.reshape(mm(n, W(`blk.${l}.attn_k.weight`)), [B, T, H, hd])))
    const v = splitHeads(mm(n, W(`blk.${l}.attn_v.weight`)))
    const attn = causalAttention(q, k, v, mask) // [B·H, T, hd]
    const merged = tf.reshape(tf.transpose(tf.reshape(attn, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D
    h = tf.add(h, mm(merged, W(`blk.${l}.attn_output.weight`)))
    const m = rmsNorm(h, w(`blk.${l}.ffn_norm.weight`), eps) as tf.Tensor2D
    const gate = mm(m, W(`blk.${l}.ffn_gate.weight`))
    const up = mm(m, W(`blk.${l}.ffn_up.weight`))
    const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D
    h = tf.add(h, mm(act, W(`blk.${l}.ffn_down.weight`)))
  }
  const out = rmsNorm(h, w('output_norm.weight'), eps) as tf.Tensor2D
  return mm(out, tf.transpose(W('token_embd.weight')))
}

/**
 * Mean next-token cross-entropy (nats) of logits [N, V] against targets [N], with the
 * closed-form gradient (softmax − onehot)/N instead of differentiating logSumExp op by op.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, vocabSize: number): tf.Scalar {
  const f = tf.customGrad((...inputs: Array<tf.Tensor | ((save: tf.Tensor[]) => void)>) => {
    const x = inputs[0] as tf.Tensor2D
    const onehot = tf.oneHot(targets, vocabSize)
    const lse = tf.logSumExp(x, 1, true)
    const probs = tf.exp(tf.sub(x, lse))
    ;(inputs[1] as (save: tf.Tensor[]) => void)([probs, onehot])
    const value = tf.mean(tf.sub(tf.squeeze(lse, [1]), tf.sum(tf.mul(x, onehot), 1))) as tf.Scalar
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.sub(saved[0]!, saved[1]!), tf.div(dy, x.shape[0])),
    }
  })
  return f(logits) as tf.Scalar
}
