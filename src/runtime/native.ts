import type { LlamaContext, LlamaModel } from 'node-llama-cpp'

/**
 * The part of node-llama-cpp's native addon the engine drives directly. node-llama-cpp's public
 * sequence API (`evaluate`, `controlledEvaluate`) schedules each sequence's tokens through
 * promises, locks and a thread splitter, and only exposes llama.cpp's own stateful samplers; it
 * costs milliseconds per token (DESIGN.md, "Measured facts"). The addon under it is exactly
 * llama.cpp's batch API: one `llama_batch` filled for all sequences, one `llama_decode`, then one
 * sampling call per sequence that can return the top-k (token, logit) pairs. Those members are
 * marked `@internal` in node-llama-cpp 3.22, so this file declares the narrow shape used
 * (mirroring `dist/bindings/AddonTypes.d.ts`) and checks it at load time.
 */

/** llama.cpp batch of the context (AddonContext). */
export interface NativeContext {
  initBatch(size: number): void
  /**
   * Appends `tokens` of sequence `sequenceId` at positions `firstPosition…`; returns the batch
   * indexes of the tokens listed (by offset into `tokens`) in `logitIndexes`.
   */
  addToBatch(sequenceId: number, firstPosition: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array
  /** llama_decode on a libuv worker thread. */
  decodeBatch(): Promise<void>
  /**
   * Runs `sampler`'s llama.cpp chain over the logits at `batchLogitIndex`; with the 5-tuple
   * option it returns, at [3], the flat list [id, logit, id, logit, …] of the `top` highest
   * candidates left by the chain.
   */
  sampleToken(
    batchLogitIndex: number,
    sampler: NativeSampler,
    probabilities: boolean,
    confidence: boolean,
    logits: [tokens: readonly number[], includeMax: boolean, includeMin: boolean, includeSelected: boolean, top: number],
  ): Promise<[token: number, probabilities: unknown, confidence: unknown, logits: number[] | undefined]>
  /** llama_memory_seq_rm(seq, start, end); -1 means open-ended. */
  removeTokenCellsFromSequence(sequenceId: number, startPos: number, endPos: number): boolean
  setThreads(threads: number): void
}

/** A llama.cpp sampler chain owned by one slot (AddonSampler). */
export interface NativeSampler {
  applyConfig(config: { temperature?: number; topK?: number; seed?: number }): void
  dispose(): void
}

type NativeSamplerConstructor = new (model: unknown) => NativeSampler

interface InternalContext {
  _ctx?: NativeContext
}
interface InternalModel {
  _model?: unknown
  _llama?: { _bindings?: { AddonSampler?: NativeSamplerConstructor } }
}

/** The native handles behind a public context; throws when node-llama-cpp's internals moved. */
export function nativeHandles(model: LlamaModel, context: LlamaContext): {
  context: NativeContext
  createSampler: () => NativeSampler
} {
  const nativeContext = (context as unknown as InternalContext)._ctx
  const internalModel = model as unknown as InternalModel
  const Sampler = internalModel._llama?._bindings?.AddonSampler
  const nativeModel = internalModel._model
  if (nativeContext === undefined || Sampler === undefined || nativeModel === undefined ||
      typeof nativeContext.addToBatch !== 'function' || typeof nativeContext.sampleToken !== 'function') {
    throw new Error('node-llama-cpp internals differ from version 3.22 (AddonContext/AddonSampler not found)')
  }
  return { context: nativeContext, createSampler: () => new Sampler(nativeModel) }
}
