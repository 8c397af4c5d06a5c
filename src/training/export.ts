/**
 * Export of trained weights to GGUF (llama arch) through the models layer's writer, plus the
 * helpers the parity test and the evaluation need: the weights exactly as llama.cpp will see
 * them after Q8_0 quantization ("dequantized"), and the tokenizer spec of our BPE vocabulary.
 *
 * Layout: we keep matrices as [n_in, n_out] (y = x·W); GGUF stores [n_out rows × n_in columns]
 * (ggml ne0 = n_in), so every matrix is transposed; Q8_0 blocks run along n_in. The output head
 * is tied in training; the models writer always emits `output.weight`, so it gets a copy of
 * `token_embd.weight`, which computes the same logits.
 */
import { GgmlType, dequantizeQ8_0, quantizeQ8_0, type LlamaHyperparameters, type LlamaTensorSpec, type TokenizerSpec } from '../models/index.js'
import { writeLlamaGguf } from '../models/llama-arch.js'
import type { BpeVocab } from './bpe.js'
import type { ModelConfig } from './config.js'
import { ModelShapeError } from './errors.js'

/** Matrix types the demo model can be exported with. */
export type ExportType = 'Q8_0' | 'F16'

/** llama.cpp hyperparameters of a training config. */
export function llamaHyperparameters(cfg: ModelConfig): LlamaHyperparameters {
  return {
    contextLength: cfg.contextLength,
    embeddingLength: cfg.dim,
    blockCount: cfg.nLayers,
    feedForwardLength: cfg.ffnDim,
    headCount: cfg.nHeads,
    headCountKv: cfg.nHeads,
    ropeFreqBase: cfg.ropeTheta,
    rmsNormEpsilon: cfg.rmsEps,
    vocabSize: cfg.vocabSize,
  }
}

/** Our vocabulary as the models layer's tokenizer spec (same ids: bytes, merges, end-of-text). */
export function tokenizerSpecOf(vocab: BpeVocab): TokenizerSpec {
  return {
    merges: vocab.merges.map((m): [string, string] => {
      const at = m.indexOf(' ', 1)
      return [m.slice(0, at), m.slice(at + 1)]
    }),
    specials: { eos: vocab.tokens[vocab.endOfTextId]! },
  }
}

/** Rows × cols transpose of a row-major matrix. */
export function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!
  return out
}

/** The GGUF tensor (row-major [out, in]) for a llama tensor spec, from our parameters. */
export function ggufTensor(cfg: ModelConfig, params: Map<string, Float32Array>, spec: LlamaTensorSpec): Float32Array {
  const ours = spec.name === 'output.weight' ? 'token_embd.weight' : spec.name
  const data = params.get(ours)
  if (!data) throw new ModelShapeError(`no parameter for GGUF tensor ${spec.name}`)
  if (spec.shape.length === 1 || ours === 'token_embd.weight') return data
  const [out, inp] = spec.shape as [number, number]
  if (out * inp !== data.length) throw new ModelShapeError(`${spec.name}: ${data.length} values for shape ${spec.shape.join('×')}`)
  return transpose(data, inp, out)
}

/**
 * Our parameters rounded through Q8_0 exactly as the exported file stores them (blocks of 32
 * along each GGUF row), in our layout: the weights llama.cpp actually computes with.
 */
export function dequantizedParams(params: Map<string, Float32Array>, cfg: ModelConfig): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  for (const [name, data] of params) {
    if (name.endsWith('norm.weight')) out.set(name, data)
    else if (name === 'token_embd.weight') out.set(name, dequantizeQ8_0(quantizeQ8_0(data)))
    else {
      const [inp, outDim] = name.endsWith('ffn_down.weight') ? [cfg.ffnDim, cfg.dim] : name.includes('ffn_') ? [cfg.dim, cfg.ffnDim] : [cfg.dim, cfg.dim]
      const rows = dequantizeQ8_0(quantizeQ8_0(transpose(data, inp, outDim)))
      out.set(name, transpose(rows, outDim, inp))
    }
  }
  return out
}

/** Writes the model as a llama-arch GGUF. */
export async function exportGguf(
  path: string,
  options: { name: string; cfg: ModelConfig; params: Map<string, Float32Array>; tokenizer: TokenizerSpec; type: ExportType; general?: Record<string, string> },
): Promise<void> {
  const { cfg, params } = options
  await writeLlamaGguf(path, {
    name: options.name,
    hparams: llamaHyperparameters(cfg),
    tokenizer: options.tokenizer,
    weights: (spec) => ggufTensor(cfg, params, spec),
    matrixType: options.type === 'Q8_0' ? GgmlType.Q8_0 : GgmlType.F16,
    ...(options.general ? { general: options.general } : {}),
  })
}
