/**
 * The contract between a loaded model and everything that serves it (HTTP API, job protocol,
 * verification). One `Engine` owns one loaded model file and its slots; callers post a request
 * and receive tokens through `onToken` as they are decided.
 *
 * Sampling is counter-based (DESIGN.md, "Jobs"): the random draw for output token t depends only
 * on (seed, t), never on a stateful RNG, so any engine can continue a stream at token t
 * (`resumeTokens`) and a verifier can replay any token's choice.
 */

/** Sampling parameters after validation and defaulting; every field is always set. */
export interface SamplingParams {
  /** 0 selects greedy decoding. */
  readonly temperature: number
  /** Nucleus cut-off in (0, 1]; 1 disables. */
  readonly topP: number
  /** Keep the k most likely tokens; 0 disables. */
  readonly topK: number
  /** Drop tokens whose probability is below minP × the top token's; 0 disables. */
  readonly minP: number
  /** Penalty applied to tokens seen in the last `repeatLastN` tokens; 1 disables. */
  readonly repeatPenalty: number
  readonly repeatLastN: number
  /** Unsigned 32-bit seed of the counter-based sampler. */
  readonly seed: number
  /** Upper bound on generated tokens, counting `resumeTokens`. */
  readonly maxTokens: number
  /** Generation stops before any of these strings; the stop string itself is not emitted. */
  readonly stop: readonly string[]
}

export type FinishReason = 'stop' | 'length' | 'abort'

export interface GenerateRequest {
  /** Text (tokenized with the model's tokenizer, BOS added as the model wants) or token ids. */
  readonly prompt: string | readonly number[]
  readonly params: SamplingParams
  /**
   * Output tokens already produced by an earlier run of the same request (failover): they are
   * appended to the prompt, not emitted again, and sampling continues at index
   * `resumeTokens.length`.
   */
  readonly resumeTokens?: readonly number[]
}

export interface GeneratedToken {
  /** Position of this token in the output (0-based, counting resumed tokens). */
  readonly index: number
  readonly id: number
  /** Text this token adds to the output; may be '' while a multi-byte character is incomplete. */
  readonly text: string
  /** Natural-log probability of the chosen token under the sampling distribution. */
  readonly logprob: number
}

export interface GenerateTimings {
  /** Waiting for a free slot. */
  readonly queuedMs: number
  /** From slot assignment to the first generated token. */
  readonly timeToFirstTokenMs: number
  /** From the first to the last generated token. */
  readonly decodeMs: number
}

export interface GenerateResult {
  /** Full output text of this run (excluding resumed tokens' text and any stop string). */
  readonly text: string
  /** Ids of all output tokens including resumed ones. */
  readonly tokens: readonly number[]
  readonly promptTokens: number
  /** Number of output tokens including resumed ones. */
  readonly completionTokens: number
  readonly finishReason: FinishReason
  readonly timings: GenerateTimings
}

export interface GenerateOptions {
  /** Aborting frees the slot at once; the promise then resolves with finishReason 'abort'. */
  readonly signal?: AbortSignal
  readonly onToken?: (token: GeneratedToken) => void
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant'
  readonly content: string
}

/** What the engine knows about the model it serves. */
export interface ModelInfo {
  /** Served name (e.g. `commons-demo`). */
  readonly name: string
  /** sha256 hex of the GGUF file: the model's identity across the network. */
  readonly sha256: string
  readonly path: string
  readonly sizeBytes: number
  /** Context size of each slot, in tokens. */
  readonly contextSize: number
  readonly vocabSize: number
  readonly architecture: string
  readonly parameterCount: number
}

export interface EngineStats {
  readonly parallel: number
  readonly activeSlots: number
  readonly queueDepth: number
  readonly maxQueue: number
}

export interface Engine {
  readonly model: ModelInfo
  /** Token ids of `text` as this model tokenizes it (no BOS). */
  tokenize(text: string): number[]
  detokenize(tokens: readonly number[]): string
  /** Renders messages with the model's chat template (documented default if it has none). */
  applyChatTemplate(messages: readonly ChatMessage[]): string
  /**
   * Stop strings implied by the chat template, which callers add to chat requests (e.g.
   * `<|im_end|>` for the default ChatML template, which a model may emit as plain text).
   */
  readonly chatStop?: readonly string[]
  /**
   * Runs one request in a slot. Rejects with `QueueFullError` (429) when all slots are busy and
   * the queue is full, and with `ContextLengthExceededError` (400) when the prompt cannot fit.
   */
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<GenerateResult>
  stats(): EngineStats
  /** Frees the model and its context; pending requests finish with 'abort'. */
  unload(): Promise<void>
}
