import { z } from 'zod'
import { GgmlType } from './gguf/constants.js'
import { GgufWriter, type WriteProgress } from './gguf/writer.js'
import { BpeTokenizer } from './tokenizer/bpe.js'
import { writeTokenizerMetadata } from './tokenizer/metadata.js'
import type { TokenizerSpec } from './tokenizer/spec.js'

/**
 * Hyperparameters of a llama-architecture model, as llama.cpp reads them
 * (src/llama-model.cpp `llm_load_hparams`, keys `llama.*`). Attention uses llama.cpp's
 * LLAMA_ROPE_TYPE_NORM for arch "llama": RoPE rotates adjacent pairs (x[2i], x[2i+1]) of each
 * head with θ_i = freqBase^(−2i/headDim) — a trainer exporting weights must use the same
 * convention (HF checkpoints are permuted by convert_hf_to_gguf.py for this reason).
 */
export const llamaHyperparametersSchema = z.object({
  contextLength: z.number().int().positive(),
  embeddingLength: z.number().int().positive(),
  blockCount: z.number().int().positive(),
  feedForwardLength: z.number().int().positive(),
  headCount: z.number().int().positive(),
  headCountKv: z.number().int().positive(),
  ropeFreqBase: z.number().positive(),
  rmsNormEpsilon: z.number().positive(),
  vocabSize: z.number().int().positive(),
})
export type LlamaHyperparameters = z.infer<typeof llamaHyperparametersSchema>

/** `general.file_type` for "mostly Q8_0" (llama.h `LLAMA_FTYPE_MOSTLY_Q8_0`). */
const LLAMA_FTYPE_MOSTLY_Q8_0 = 7

/** One tensor of a llama model: GGUF name and row-major shape ([out, in] for weight matrices). */
export interface LlamaTensorSpec {
  readonly name: string
  readonly shape: readonly number[]
  /** Norm weights are vectors kept in F32; matrices are quantized. */
  readonly isNorm: boolean
}

/** The tensors llama.cpp's llama arch loads (llama-model.cpp, LLM_ARCH_LLAMA), in file order. */
export function llamaTensors(hp: LlamaHyperparameters): LlamaTensorSpec[] {
  const d = hp.embeddingLength
  const headDim = d / hp.headCount
  const kv = headDim * hp.headCountKv
  const out: LlamaTensorSpec[] = [{ name: 'token_embd.weight', shape: [hp.vocabSize, d], isNorm: false }]
  for (let i = 0; i < hp.blockCount; i++) {
    out.push(
      { name: `blk.${i}.attn_norm.weight`, shape: [d], isNorm: true },
      { name: `blk.${i}.attn_q.weight`, shape: [d, d], isNorm: false },
      { name: `blk.${i}.attn_k.weight`, shape: [kv, d], isNorm: false },
      { name: `blk.${i}.attn_v.weight`, shape: [kv, d], isNorm: false },
      { name: `blk.${i}.attn_output.weight`, shape: [d, d], isNorm: false },
      { name: `blk.${i}.ffn_norm.weight`, shape: [d], isNorm: true },
      { name: `blk.${i}.ffn_gate.weight`, shape: [hp.feedForwardLength, d], isNorm: false },
      { name: `blk.${i}.ffn_up.weight`, shape: [hp.feedForwardLength, d], isNorm: false },
      { name: `blk.${i}.ffn_down.weight`, shape: [d, hp.feedForwardLength], isNorm: false },
    )
  }
  out.push({ name: 'output_norm.weight', shape: [d], isNorm: true }, { name: 'output.weight', shape: [hp.vocabSize, d], isNorm: false })
  return out
}

/** Parameter count (all tensors). */
export function llamaParameterCount(hp: LlamaHyperparameters): number {
  return llamaTensors(hp).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0)
}

export interface LlamaGgufOptions {
  readonly name: string
  readonly hparams: LlamaHyperparameters
  readonly tokenizer: TokenizerSpec | BpeTokenizer
  /** Weights of one tensor as f32, row-major; called once per tensor, at write time. */
  readonly weights: (tensor: LlamaTensorSpec) => Float32Array
  /** Matrix type: Q8_0 (default; see DESIGN.md on why), F16 or F32. Norms are always F32. */
  readonly matrixType?: typeof GgmlType.Q8_0 | typeof GgmlType.F16 | typeof GgmlType.F32
  /** Extra `general.*` metadata (license, description…). */
  readonly general?: Readonly<Record<string, string>>
}

/** Builds a GgufWriter holding a complete llama-arch model that llama.cpp loads. */
export function buildLlamaGguf(options: LlamaGgufOptions): GgufWriter {
  const hp = llamaHyperparametersSchema.parse(options.hparams)
  const tok = options.tokenizer instanceof BpeTokenizer ? options.tokenizer : new BpeTokenizer(options.tokenizer)
  if (tok.vocabSize !== hp.vocabSize) throw new RangeError(`vocabSize ${hp.vocabSize} but the tokenizer has ${tok.vocabSize} tokens`)
  if (hp.embeddingLength % hp.headCount !== 0 || hp.headCount % hp.headCountKv !== 0) {
    throw new RangeError('embeddingLength must divide into headCount heads, and headCount into headCountKv groups')
  }
  const matrixType = options.matrixType ?? GgmlType.Q8_0
  const w = new GgufWriter()
    .setString('general.architecture', 'llama')
    .setString('general.name', options.name)
  for (const [k, v] of Object.entries(options.general ?? {})) w.setString(`general.${k}`, v)
  w.setU32('general.file_type', matrixType === GgmlType.Q8_0 ? LLAMA_FTYPE_MOSTLY_Q8_0 : matrixType === GgmlType.F16 ? 1 : 0)
    .setU32('general.quantization_version', 2)
    .setU32('llama.context_length', hp.contextLength)
    .setU32('llama.embedding_length', hp.embeddingLength)
    .setU32('llama.block_count', hp.blockCount)
    .setU32('llama.feed_forward_length', hp.feedForwardLength)
    .setU32('llama.attention.head_count', hp.headCount)
    .setU32('llama.attention.head_count_kv', hp.headCountKv)
    .setF32('llama.rope.freq_base', hp.ropeFreqBase)
    .setF32('llama.attention.layer_norm_rms_epsilon', hp.rmsNormEpsilon)
    .setU32('llama.rope.dimension_count', hp.embeddingLength / hp.headCount)
    .setU32('llama.vocab_size', hp.vocabSize)
  writeTokenizerMetadata(w, tok)
  for (const t of llamaTensors(hp)) {
    w.addTensor(t.name, t.shape, t.isNorm ? GgmlType.F32 : matrixType, () => options.weights(t))
  }
  return w
}

/** Writes a llama-arch GGUF to `path` (streamed, atomic). */
export async function writeLlamaGguf(
  path: string,
  options: LlamaGgufOptions & { onProgress?: (p: WriteProgress) => void; signal?: AbortSignal },
): Promise<void> {
  await buildLlamaGguf(options).writeFile(path, { onProgress: options.onProgress, signal: options.signal })
}
