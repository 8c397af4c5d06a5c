/**
 * models/: GGUF reader/writer, the byte-level BPE tokenizer llama.cpp loads, llama-arch model
 * building (tiny + bench models), provenance manifests, and the content-addressed model store.
 */
export { CorruptModelError, InvalidManifestError, InvalidModelSpecError, ModelNotFoundError } from './errors.js'
export * from './gguf/index.js'
export * from './tokenizer/index.js'
export {
  buildLlamaGguf,
  llamaHyperparametersSchema,
  llamaParameterCount,
  llamaTensors,
  writeLlamaGguf,
  type LlamaGgufOptions,
  type LlamaHyperparameters,
  type LlamaTensorSpec,
} from './llama-arch.js'
export { seededWeights } from './random-weights.js'
export { TINY_CORPUS, ensureTinyModel, getTinyTokenizer, tinyHyperparameters, writeTinyModel } from './tiny.js'
export { sha256File } from './file-hash.js'
export { BENCH_MODEL_PATH, benchHyperparameters, writeBenchModel } from './bench-model.js'
export {
  buildManifest,
  checkManifestAgainstGguf,
  listManifests,
  loadManifest,
  manifestHash,
  manifestPath,
  modelManifestSchema,
  modelNameSchema,
  parseManifest,
  verifyManifest,
  type ModelManifest,
} from './manifest.js'
export { ModelStore, type ImportOptions, type StoredModel } from './store.js'
export { createProgress, type ProgressReporter } from './progress.js'
