import type { ChatMessage, GenerateOptions, GenerateResult, ModelInfo, SamplingParams } from './engine.js'

/**
 * What the HTTP API needs from "something that runs models": a local engine set today, the swarm
 * scheduler (local first, remote workers over libp2p) later. Both implement this interface, so
 * the API never knows where a job ran except through `servedBy`.
 */

/** The input of a job. Chat is rendered with the model's own template where the model lives. */
export type Prompt =
  | { readonly kind: 'completion'; readonly prompt: string }
  | { readonly kind: 'chat'; readonly messages: readonly ChatMessage[] }

export interface InferenceRequest {
  /** Served model name or sha256 of the model file. */
  readonly model: string
  readonly prompt: Prompt
  readonly params: SamplingParams
  /** Output tokens already delivered to the client by an earlier attempt (failover). */
  readonly resumeTokens?: readonly number[]
}

export interface InferenceResult extends GenerateResult {
  /** Served model name. */
  readonly model: string
  /** Node id (hex public key) of the worker that ran the job. */
  readonly servedBy: string
  /** Id of the worker's signed receipt, when the job ran remotely. */
  readonly receiptId?: string
}

export interface ServedModel {
  readonly info: ModelInfo
  /** Provenance manifest (models/<name>.manifest.json), when the model has one. */
  readonly manifest?: Readonly<Record<string, unknown>>
  /** True when this node itself runs the model. */
  readonly local: boolean
}

export interface InferenceService {
  listModels(): readonly ServedModel[]
  /**
   * Runs one job. Rejects with typed errors: unknown model (404 `model_not_found`), prompt too
   * long (400 `context_length_exceeded`), overload (429 with retry-after), no worker (503).
   */
  generate(request: InferenceRequest, options?: GenerateOptions): Promise<InferenceResult>
}
