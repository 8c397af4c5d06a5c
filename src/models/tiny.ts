import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { sha256File } from './file-hash.js'
import { GgmlType } from './gguf/constants.js'
import { buildLlamaGguf, type LlamaHyperparameters } from './llama-arch.js'
import { seededWeights } from './random-weights.js'
import { BpeTokenizer } from './tokenizer/bpe.js'
import { learnMerges } from './tokenizer/learn.js'

/**
 * Built-in text the tiny model's merges are learned from: a little English prose, code, numbers
 * and other scripts, so its vocabulary exercises multi-byte merges.
 */
export const TINY_CORPUS = `Commons is a network of machines that serve open models to anyone.
Anyone can contribute a machine, anyone can use the models, and the rules are decided in the open.
The log is the single source of truth: every entry is signed, hashed into a Merkle tree, and
cosigned by witnesses. A model is admitted only by a vote of the members, and each model has a
manifest that says where it came from, what data it was trained on, and how well it does.
When a worker dies in the middle of a stream, another worker continues from the same token, and
the client sees one uninterrupted answer. The sampler draws token t from (seed, t) alone.
function add(a, b) { return a + b }
for (let i = 0; i < 10; i++) { console.log(i * 2) }
const total = items.map((x) => x.price).reduce((a, b) => a + b, 0)
The year 2026 has 365 days; 1 + 1 = 2, 3.14159 is close to pi, and 100% is all of it.
Les communs sont des ressources partagées. Die Allmende gehört allen. Los bienes comunes.
共有地は皆のものです。公共资源属于每个人。 모두의 것입니다. Общее достояние принадлежит всем.
Emoji are text too: 🌍🌱✨ — and so are tabs\tand  double  spaces.
`

/** Architecture of the tiny model: small enough to load and run in milliseconds. */
export function tinyHyperparameters(vocabSize: number): LlamaHyperparameters {
  return {
    contextLength: 2048,
    embeddingLength: 64,
    blockCount: 2,
    feedForwardLength: 128,
    headCount: 4,
    headCountKv: 4,
    ropeFreqBase: 10000,
    rmsNormEpsilon: 1e-5,
    vocabSize,
  }
}

/** Most merges learned for the tiny model's tokenizer (learning stops at pairs seen once: 125 here). */
export const TINY_MERGES = 300

let tinyTokenizer: BpeTokenizer | undefined

/** The tiny model's tokenizer (learned once from TINY_CORPUS; deterministic). */
export function getTinyTokenizer(): BpeTokenizer {
  tinyTokenizer ??= new BpeTokenizer(learnMerges(TINY_CORPUS, TINY_MERGES))
  return tinyTokenizer
}

/**
 * Writes the tiny built-in llama-arch model (2 layers, d = 64, 4 heads, SwiGLU, RoPE, RMSNorm,
 * context 2048, Q8_0 matrices, F32 norms) with seeded random weights. Same seed ⇒ byte-identical
 * file. It is a real model for llama.cpp — it just says nothing meaningful.
 */
export async function writeTinyModel(path: string, options: { seed?: number; signal?: AbortSignal } = {}): Promise<void> {
  const seed = options.seed ?? 0
  const tokenizer = getTinyTokenizer()
  await buildLlamaGguf({
    name: `commons-tiny-s${seed}`,
    hparams: tinyHyperparameters(tokenizer.vocabSize),
    tokenizer,
    weights: seededWeights(seed),
    matrixType: GgmlType.Q8_0,
    general: { license: 'Apache-2.0', description: 'Commons tiny test model: seeded random weights' },
  }).writeFile(path, { signal: options.signal })
}


/**
 * Writes the tiny model (seed 0 unless given) into `dir` once — `commons-tiny-s<seed>.gguf` — and
 * returns its path, sha256 and size. Concurrent callers are safe: the write is atomic, and the
 * content is deterministic.
 */
export async function ensureTinyModel(
  dir: string,
  options: { seed?: number; signal?: AbortSignal } = {},
): Promise<{ path: string; sha256: string; size: number }> {
  const seed = options.seed ?? 0
  await mkdir(dir, { recursive: true })
  const path = join(dir, `commons-tiny-s${seed}.gguf`)
  const existing = await stat(path).catch(() => undefined)
  if (existing === undefined) await writeTinyModel(path, { seed, signal: options.signal })
  const size = (await stat(path)).size
  return { path, sha256: await sha256File(path), size }
}
