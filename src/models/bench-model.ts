import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { GgmlType } from './gguf/constants.js'
import type { WriteProgress } from './gguf/writer.js'
import { buildLlamaGguf, llamaParameterCount, type LlamaHyperparameters } from './llama-arch.js'
import { seededWeights } from './random-weights.js'
import { sha256File } from './file-hash.js'
import { getTinyTokenizer } from './tiny.js'

/**
 * The runtime benchmark's model: llama arch, d = 768, 12 layers, 12 heads, SwiGLU 2048,
 * context 2048, Q8_0 — about 85 M parameters (≈ 90 MB), the size DESIGN.md's measurements used.
 * The tokenizer is the tiny model's (a small vocabulary keeps the output layer from dominating).
 */
export function benchHyperparameters(vocabSize: number = getTinyTokenizer().vocabSize): LlamaHyperparameters {
  return {
    contextLength: 2048,
    embeddingLength: 768,
    blockCount: 12,
    feedForwardLength: 2048,
    headCount: 12,
    headCountKv: 12,
    ropeFreqBase: 10000,
    rmsNormEpsilon: 1e-5,
    vocabSize,
  }
}

/** Default location, relative to the repository root (git-ignored). */
export const BENCH_MODEL_PATH = '.cache/bench-model.gguf'

/** Writes the seeded bench model to `path` (streamed tensor by tensor, atomic rename). */
export async function writeBenchModel(
  path: string,
  options: { seed?: number; onProgress?: (p: WriteProgress) => void; signal?: AbortSignal } = {},
): Promise<{ path: string; sha256: string; size: number; parameters: number }> {
  const seed = options.seed ?? 0
  const tokenizer = getTinyTokenizer()
  const hparams = benchHyperparameters(tokenizer.vocabSize)
  await mkdir(dirname(path), { recursive: true })
  await buildLlamaGguf({
    name: `commons-bench-s${seed}`,
    hparams,
    tokenizer,
    weights: seededWeights(seed),
    matrixType: GgmlType.Q8_0,
    general: { license: 'Apache-2.0', description: 'Commons benchmark model: seeded random weights, ~85M parameters' },
  }).writeFile(path, { onProgress: options.onProgress, signal: options.signal })
  return { path, sha256: await sha256File(path), size: (await stat(path)).size, parameters: llamaParameterCount(hparams) }
}
