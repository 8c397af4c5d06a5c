import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { canonicalJson, sha256Hex } from '../identity/index.js'
import { CorruptModelError, InvalidManifestError } from './errors.js'
import { metadataValue, openGguf, type GgufFile } from './gguf/reader.js'
import { llamaHyperparametersSchema } from './llama-arch.js'
import { sha256File } from './file-hash.js'

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256')

/** Model names: lower-case, URL- and file-name-safe (`commons-demo`, `tiny-s0`). */
export const modelNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_", "-" (max 64)')

/** Where the training text came from, and its hash (the exact bytes trained on). */
export const corpusSchema = z.object({
  name: z.string().min(1),
  license: z.string().min(1),
  sha256: sha256Schema,
  /** Where it was obtained (package, URL, path under data/). */
  source: z.string().min(1).optional(),
  bytes: z.number().int().nonnegative().optional(),
})

/** A model trained by our code (issue 4): everything needed to reproduce and judge it. */
export const trainedProvenanceSchema = z.object({
  kind: z.literal('trained'),
  corpus: corpusSchema,
  /** Git commit of the training code. */
  codeCommit: z.string().regex(/^[0-9a-f]{7,40}$/),
  seed: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
  wallTimeSeconds: z.number().nonnegative(),
  trainLoss: z.number(),
  validationLoss: z.number(),
})

/** A model with generated (untrained) weights — the tiny and bench models. */
export const syntheticProvenanceSchema = z.object({
  kind: z.literal('synthetic'),
  /** The function that wrote it, e.g. `src/models/tiny.ts writeTinyModel`. */
  generator: z.string().min(1),
  seed: z.number().int().nonnegative(),
  codeCommit: z.string().regex(/^[0-9a-f]{7,40}$/).optional(),
})

/**
 * A model file whose origin nobody declared (`commons start --model FILE` with no manifest beside
 * it): architecture, tokenizer and hash come from the file itself, nothing else is claimed.
 */
export const undeclaredProvenanceSchema = z.object({
  kind: z.literal('undeclared'),
  /** How the manifest was made, e.g. "built from the GGUF file by commons start". */
  note: z.string().min(1),
})

/** Evaluation results: named metrics, plus optional text samples. */
export const evaluationSchema = z.object({
  metrics: z.record(z.string(), z.number()),
  samples: z.array(z.string()).optional(),
  /** Free-form notes on how the metrics were measured (command, date). */
  notes: z.string().optional(),
})

/**
 * `models/<name>.manifest.json`: a model's provenance (DESIGN.md "Data that is the truth").
 * Governance admits a model by its manifest; `/v1/models` and `commons models` show it.
 */
export const modelManifestSchema = z.object({
  schemaVersion: z.literal(1),
  name: modelNameSchema,
  version: z.string().min(1),
  description: z.string().optional(),
  /** SPDX id of the weights' license. */
  license: z.string().min(1),
  architecture: z.object({
    name: z.literal('llama'),
    hyperparameters: llamaHyperparametersSchema,
    parameters: z.number().int().positive(),
  }),
  /** Type of the weight matrices (norms are F32). */
  quantization: z.enum(['Q8_0', 'F16', 'F32']),
  tokenizer: z.object({
    /** GGUF `tokenizer.ggml.model` / `tokenizer.ggml.pre`. */
    model: z.literal('gpt2'),
    pre: z.string().min(1),
    vocabSize: z.number().int().positive(),
    merges: z.number().int().nonnegative(),
  }),
  file: z.object({
    /** File name the model is published under (e.g. `commons-demo.gguf`). */
    name: z.string().regex(/^[^/\\]+\.gguf$/),
    sha256: sha256Schema,
    size: z.number().int().positive(),
  }),
  provenance: z.discriminatedUnion('kind', [trainedProvenanceSchema, syntheticProvenanceSchema, undeclaredProvenanceSchema]),
  evaluation: evaluationSchema.optional(),
})

export type ModelManifest = z.infer<typeof modelManifestSchema>

/** Validates an untrusted manifest value (JSON from disk, a proposal, a peer). */
export function parseManifest(value: unknown): ModelManifest {
  const result = modelManifestSchema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]!
    throw new InvalidManifestError(`invalid manifest at ${issue.path.join('.') || '(root)'}: ${issue.message}`, { cause: result.error })
  }
  return result.data
}

/** Reads and validates a manifest file. */
export async function loadManifest(path: string): Promise<ModelManifest> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new InvalidManifestError(`cannot read manifest ${path}`, { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new InvalidManifestError(`${path} is not JSON`, { cause })
  }
  return parseManifest(json)
}

/** `<dir>/<name>.manifest.json`. */
export function manifestPath(dir: string, name: string): string {
  return join(dir, `${modelNameSchema.parse(name)}.manifest.json`)
}

/** All valid manifests in a folder (invalid ones are reported, not thrown). */
export async function listManifests(dir: string): Promise<{ manifests: ModelManifest[]; errors: Array<{ path: string; message: string }> }> {
  const names = await readdir(dir).catch(() => [] as string[])
  const manifests: ModelManifest[] = []
  const errors: Array<{ path: string; message: string }> = []
  for (const file of names.filter((n) => n.endsWith('.manifest.json')).sort()) {
    try {
      manifests.push(await loadManifest(join(dir, file)))
    } catch (err) {
      errors.push({ path: join(dir, file), message: (err as Error).message })
    }
  }
  return { manifests, errors }
}

/** sha256 of the manifest's RFC 8785 canonical JSON — how proposals and the log refer to it. */
export function manifestHash(manifest: ModelManifest): string {
  return sha256Hex(canonicalJson(manifest))
}

/**
 * Checks that `filePath` is the file the manifest describes: size, then sha256 (streamed), then
 * that it is a valid GGUF whose architecture, hyperparameters and vocabulary size match.
 * Throws `CorruptModelError` naming the first mismatch.
 */
export async function verifyManifest(manifest: ModelManifest, filePath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  const size = (await stat(filePath)).size
  if (size !== manifest.file.size) throw new CorruptModelError(`${filePath}: size ${size} ≠ manifest's ${manifest.file.size}`)
  options.signal?.throwIfAborted()
  const hash = await sha256File(filePath)
  if (hash !== manifest.file.sha256) throw new CorruptModelError(`${filePath}: sha256 ${hash} ≠ manifest's ${manifest.file.sha256}`)
  const f = openGguf(filePath)
  try {
    checkManifestAgainstGguf(manifest, f, filePath)
  } finally {
    f.close()
  }
}

/**
 * The GGUF-level half of `verifyManifest` (no hashing): architecture, hyperparameters and
 * tokenizer recorded in the file's metadata must be the manifest's.
 */
export function checkManifestAgainstGguf(manifest: ModelManifest, f: Pick<GgufFile, 'metadata'>, filePath: string): void {
  const hp = manifest.architecture.hyperparameters
  const expect: Array<[string, unknown]> = [
    ['general.architecture', manifest.architecture.name],
    ['llama.context_length', hp.contextLength],
    ['llama.embedding_length', hp.embeddingLength],
    ['llama.block_count', hp.blockCount],
    ['llama.feed_forward_length', hp.feedForwardLength],
    ['llama.attention.head_count', hp.headCount],
    ['llama.attention.head_count_kv', hp.headCountKv],
    ['tokenizer.ggml.model', manifest.tokenizer.model],
    ['tokenizer.ggml.pre', manifest.tokenizer.pre],
  ]
  for (const [key, value] of expect) {
    const actual = metadataValue(f, key)
    if (actual !== value) throw new CorruptModelError(`${filePath}: ${key} is ${String(actual)}, manifest says ${String(value)}`)
  }
  const tokens = f.metadata.get('tokenizer.ggml.tokens')
  const vocab = tokens?.type === 'array' ? tokens.value.length : -1
  if (vocab !== manifest.tokenizer.vocabSize || vocab !== hp.vocabSize) {
    throw new CorruptModelError(`${filePath}: vocabulary of ${vocab} tokens, manifest says ${manifest.tokenizer.vocabSize}`)
  }
}

/**
 * Builds a manifest for a GGUF file written by `buildLlamaGguf`, reading architecture,
 * quantization, tokenizer and hash from the file itself; the caller supplies what the file cannot
 * know (name, version, license, provenance, evaluation). The result is validated.
 */
export async function buildManifest(
  filePath: string,
  info: Pick<ModelManifest, 'name' | 'version' | 'license' | 'provenance'> &
    Partial<Pick<ModelManifest, 'description' | 'evaluation'>> & { fileName?: string },
): Promise<ModelManifest> {
  const f = openGguf(filePath)
  let draft: unknown
  try {
    const num = (key: string): number => {
      const v = metadataValue(f, key)
      if (typeof v !== 'number') throw new CorruptModelError(`${filePath}: missing ${key}`)
      return v
    }
    const tokens = f.metadata.get('tokenizer.ggml.tokens')
    const merges = f.metadata.get('tokenizer.ggml.merges')
    const matrix = f.tensors.find((t) => t.name === 'blk.0.attn_q.weight')
    const quantization = matrix?.type === 8 ? 'Q8_0' : matrix?.type === 1 ? 'F16' : 'F32'
    draft = {
      schemaVersion: 1,
      name: info.name,
      version: info.version,
      ...(info.description !== undefined ? { description: info.description } : {}),
      license: info.license,
      architecture: {
        name: metadataValue(f, 'general.architecture'),
        hyperparameters: {
          contextLength: num('llama.context_length'),
          embeddingLength: num('llama.embedding_length'),
          blockCount: num('llama.block_count'),
          feedForwardLength: num('llama.feed_forward_length'),
          headCount: num('llama.attention.head_count'),
          headCountKv: num('llama.attention.head_count_kv'),
          ropeFreqBase: num('llama.rope.freq_base'),
          rmsNormEpsilon: num('llama.attention.layer_norm_rms_epsilon'),
          vocabSize: tokens?.type === 'array' ? tokens.value.length : 0,
        },
        parameters: f.tensors.reduce((sum, t) => sum + t.elementCount, 0),
      },
      quantization,
      tokenizer: {
        model: metadataValue(f, 'tokenizer.ggml.model'),
        pre: metadataValue(f, 'tokenizer.ggml.pre'),
        vocabSize: tokens?.type === 'array' ? tokens.value.length : 0,
        merges: merges?.type === 'array' ? merges.value.length : 0,
      },
      file: { name: info.fileName ?? `${info.name}.gguf`, sha256: await sha256File(filePath), size: f.fileSize },
      provenance: info.provenance,
      ...(info.evaluation !== undefined ? { evaluation: info.evaluation } : {}),
    }
  } finally {
    f.close()
  }
  return parseManifest(draft)
}
