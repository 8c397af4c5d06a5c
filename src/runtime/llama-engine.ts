import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { getLlama, JinjaTemplateChatWrapper, LlamaLogLevel } from 'node-llama-cpp'
import type { ChatHistoryItem, Llama, LlamaContext, LlamaModel, Token } from 'node-llama-cpp'
import { InvalidInputError } from '../errors.js'
import { DEFAULT_CHAT_STOP, renderDefaultChatTemplate } from './chat-template.js'
import type {
  ChatMessage,
  Engine,
  EngineStats,
  FinishReason,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  ModelInfo,
} from './engine.js'
import { ContextLengthExceededError, DecodeError, EngineUnloadedError, ModelLoadError, QueueFullError } from './errors.js'
import { nativeHandles } from './native.js'
import type { NativeContext, NativeSampler } from './native.js'
import { OutputText } from './output-text.js'
import type { ReleasedToken } from './output-text.js'
import { candidatesNeeded, penalizedTokens, sampleToken } from './sampling.js'

/** Options of `loadLlamaEngine`. */
export interface LlamaEngineOptions {
  readonly modelPath: string
  /** Served name of the model. */
  readonly name: string
  /** Number of slots (llama.cpp sequences) decoded together; default 4. */
  readonly parallel?: number
  /** Context size of each slot in tokens; default min(model's training context, 4096). */
  readonly contextSize?: number
  /** Requests that may wait for a slot before new ones get `QueueFullError`; default 4 × parallel. */
  readonly maxQueue?: number
  /** CPU threads for decoding; default: 1 for models under 10M parameters, else all math cores. */
  readonly threads?: number
  /** Most tokens in one llama_decode (prefill chunks + one per decoding slot); default 512. */
  readonly batchSize?: number
  /** Known sha256 hex of the file (content-addressed store); computed when absent. */
  readonly sha256?: string
  /**
   * llama.cpp flash attention; default `'auto'`, which is what llama.cpp's own tools use (it
   * enables the fused kernel where the backend supports it, the CPU included).
   */
  readonly flashAttention?: boolean | 'auto'
}

/**
 * Life of a slot:
 *   idle → prefill       a queued request is assigned; the slot's KV cells are empty.
 *   prefill → generating the last chunk of prompt (+ resumed tokens) is decoded; sampling starts.
 *   prefill|generating → done
 *                        stop string, end-of-generation token, max_tokens, full context, abort or
 *                        error; the request's promise settles right then.
 *   done → idle          at the next step boundary (never during a decode) the KV cells are
 *                        cleared and the slot takes the next queued request.
 */
export type SlotState = 'idle' | 'prefill' | 'generating' | 'done'

interface Job {
  readonly request: GenerateRequest
  readonly options: GenerateOptions
  /** Prompt tokens (BOS included) followed by resumed tokens: what prefill evaluates. */
  readonly prefillTokens: number[]
  readonly promptTokens: number
  readonly enqueuedAt: number
  readonly resolve: (result: GenerateResult) => void
  readonly reject: (error: unknown) => void
  settled: boolean
  detachAbort: () => void
}

interface Slot {
  /** llama.cpp sequence id. */
  readonly sequence: number
  readonly sampler: NativeSampler
  state: SlotState
  job: Job | null
  /** Tokens already in this sequence's KV cells (= position of the next token). */
  position: number
  /** Next index into `job.prefillTokens` to evaluate. */
  prefillOffset: number
  /** Batch index of this slot's logits in the current step, or -1. */
  logitIndex: number
  /** Sampled token not yet evaluated. */
  pendingToken: number
  /** Last context tokens (prompt + output) for the repeat penalty. */
  recent: number[]
  /** Output index of the next sampled token. */
  nextIndex: number
  /** Logprobs of sampled tokens not yet released by `text`. */
  unreleasedLogprobs: number[]
  released: number[]
  text: OutputText | null
  assignedAt: number
  firstTokenAt: number
  lastTokenAt: number
  configuredTopK: number
}

const DEFAULT_PARALLEL = 4
const DEFAULT_CONTEXT = 4096
const DEFAULT_BATCH = 512

let llamaInstance: Promise<Llama> | null = null

/** One llama.cpp runtime per process, CPU only, prebuilt binaries (never built at run time). */
function sharedLlama(): Promise<Llama> {
  llamaInstance ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false })
  return llamaInstance
}

async function fileSha256(path: string): Promise<string> {
  const { createHash } = await import('node:crypto')
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Loads a GGUF model with llama.cpp and returns an engine serving `parallel` requests at once
 * with continuous batching. Throws `ModelLoadError` for a missing, unreadable or corrupt file.
 */
export async function loadLlamaEngine(options: LlamaEngineOptions): Promise<Engine> {
  const { modelPath } = options
  let sizeBytes: number
  try {
    const info = await stat(modelPath)
    if (!info.isFile()) throw new ModelLoadError(modelPath, 'not a regular file')
    sizeBytes = info.size
  } catch (error) {
    if (error instanceof ModelLoadError) throw error
    throw new ModelLoadError(modelPath, 'file not found or not readable', error)
  }
  const parallel = options.parallel ?? DEFAULT_PARALLEL
  if (!Number.isInteger(parallel) || parallel < 1) throw new InvalidInputError('parallel must be a positive integer', 'parallel')

  let llama: Llama
  try {
    llama = await sharedLlama()
  } catch (error) {
    llamaInstance = null // let a later call try again
    const reason = error instanceof Error ? error.message : String(error)
    throw new ModelLoadError(modelPath, `the llama.cpp runtime (node-llama-cpp prebuilt binary) cannot start: ${reason}`, error)
  }
  let model: LlamaModel
  try {
    model = await llama.loadModel({ modelPath, gpuLayers: 0 })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ModelLoadError(modelPath, `not a valid GGUF model for llama.cpp (${reason})`, error)
  }
  try {
    const trainContext = model.trainContextSize > 0 ? model.trainContextSize : DEFAULT_CONTEXT
    const contextSize = options.contextSize ?? Math.min(trainContext, DEFAULT_CONTEXT)
    const batchSize = Math.max(options.batchSize ?? DEFAULT_BATCH, parallel)
    const tensors = model.fileInfo.fullTensorInfo ?? []
    let parameterCount = 0
    for (const tensor of tensors) parameterCount += tensor.dimensions.reduce<number>((a, d) => a * Number(d), 1)
    const threads = options.threads ?? defaultThreads(parameterCount, llama.cpuMathCores)
    const context = await model.createContext({
      sequences: parallel,
      contextSize,
      batchSize,
      threads,
      flashAttention: options.flashAttention ?? 'auto',
      ignoreMemorySafetyChecks: true,
      failedCreationRemedy: false,
    })
    const sha256 = options.sha256 ?? (await fileSha256(modelPath))
    const vocabSize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0
    const info: ModelInfo = {
      name: options.name,
      sha256,
      path: modelPath,
      sizeBytes,
      contextSize,
      vocabSize,
      architecture: String(model.fileInfo.metadata.general?.architecture ?? 'unknown'),
      parameterCount,
    }
    return new LlamaEngine(model, context, info, {
      parallel,
      batchSize,
      threads,
      maxQueue: options.maxQueue ?? 4 * parallel,
    })
  } catch (error) {
    await model.dispose()
    if (error instanceof ModelLoadError) throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new ModelLoadError(modelPath, `cannot create a llama.cpp context (${reason})`, error)
  }
}

/** Re-reads the state after callbacks that may have changed it (defeats TS narrowing). */
function isDone(slot: Slot): boolean {
  return slot.state === 'done'
}

/** Below this many parameters one thread decodes fastest (see `defaultThreads`). */
const SINGLE_THREAD_MAX_PARAMETERS = 10_000_000

/**
 * Decode threads when none are configured: all math cores, except for tiny models, whose matrix
 * products take microseconds, less than ggml's per-operation thread barrier. (Measured here: a
 * 0.2M-parameter model decodes ~1400 tok/s on 1 thread and collapses on 2 threads when the
 * cores are shared with other busy processes, because ggml's barrier spins.)
 */
function defaultThreads(parameterCount: number, mathCores: number): number {
  if (parameterCount > 0 && parameterCount < SINGLE_THREAD_MAX_PARAMETERS) return 1
  return Math.max(1, Math.min(mathCores, availableParallelism()))
}

/** Converts OpenAI-style messages to node-llama-cpp's chat history. */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === 'system') return { type: 'system', text: m.content }
    if (m.role === 'user') return { type: 'user', text: m.content }
    return { type: 'model', response: [m.content] }
  })
  // An empty model turn at the end asks for the generation prompt.
  history.push({ type: 'model', response: [] })
  return history
}

/** The engine: one owner loop over one llama.cpp context with `parallel` sequences. */
class LlamaEngine implements Engine {
  readonly model: ModelInfo
  private readonly llamaModel: LlamaModel
  private readonly context: LlamaContext
  private readonly native: NativeContext
  private readonly slots: Slot[]
  private readonly queue: Job[] = []
  private readonly batchSize: number
  private readonly maxQueue: number
  private readonly chatWrapper: JinjaTemplateChatWrapper | null
  private wake: (() => void) | null = null
  private closed = false
  private readonly loopDone: Promise<void>
  /** Mean seconds a finished request held its slot, for Retry-After. */
  private meanServiceSeconds = 1

  constructor(model: LlamaModel, context: LlamaContext, info: ModelInfo, config: { parallel: number; batchSize: number; threads: number; maxQueue: number }) {
    this.model = info
    this.llamaModel = model
    this.context = context
    this.batchSize = config.batchSize
    this.maxQueue = config.maxQueue
    const handles = nativeHandles(model, context)
    this.native = handles.context
    this.native.setThreads(config.threads)
    this.slots = Array.from({ length: config.parallel }, (_, sequence): Slot => ({
      sequence,
      sampler: handles.createSampler(),
      state: 'idle',
      job: null,
      position: 0,
      prefillOffset: 0,
      logitIndex: -1,
      pendingToken: -1,
      recent: [],
      nextIndex: 0,
      unreleasedLogprobs: [],
      released: [],
      text: null,
      assignedAt: 0,
      firstTokenAt: 0,
      lastTokenAt: 0,
      configuredTopK: -1,
    }))
    const template = model.fileInfo.metadata.tokenizer?.chat_template
    this.chatWrapper = typeof template === 'string' && template.length > 0
      ? new JinjaTemplateChatWrapper({ template, tokenizer: model.tokenizer })
      : null
    this.loopDone = this.runLoop()
  }

  get chatStop(): readonly string[] {
    return this.chatWrapper === null ? [DEFAULT_CHAT_STOP] : []
  }

  tokenize(text: string): number[] {
    return this.llamaModel.tokenize(text, true)
  }

  detokenize(tokens: readonly number[]): string {
    return this.llamaModel.detokenize(tokens as readonly Token[])
  }

  applyChatTemplate(messages: readonly ChatMessage[]): string {
    if (this.chatWrapper === null) return renderDefaultChatTemplate(messages)
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: toChatHistory(messages) })
    const tokens = this.llamaModel.tokens
    const json = contextText.toJSON()
    const parts = typeof json === 'string' ? [json] : json
    let out = ''
    for (const [i, part] of parts.entries()) {
      if (typeof part === 'string') out += part
      else if (part.type === 'specialTokensText') out += part.value
      else if (part.value === 'BOS') out += i === 0 ? '' : (tokens.bosString ?? '') // generate() adds the leading BOS
      else if (part.value === 'EOS') out += tokens.eosString ?? ''
      else if (part.value === 'EOT') out += tokens.eotString ?? ''
      else if (part.value === 'NL') out += '\n'
      else if (part.value === 'SEP') out += tokens.sepString ?? ''
    }
    return out
  }

  stats(): EngineStats {
    let active = 0
    for (const slot of this.slots) if (slot.state === 'prefill' || slot.state === 'generating') active++
    return { parallel: this.slots.length, activeSlots: active, queueDepth: this.queue.length, maxQueue: this.maxQueue }
  }

  generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    if (this.closed) return Promise.reject(new EngineUnloadedError(this.model.name))
    let prompt: number[]
    if (typeof request.prompt === 'string') {
      prompt = this.llamaModel.tokenize(request.prompt, true)
      const bos = this.llamaModel.tokens.bos
      if (this.llamaModel.tokens.shouldPrependBosToken && bos !== null && prompt[0] !== bos) prompt.unshift(bos)
    } else {
      prompt = [...request.prompt]
    }
    const resume = request.resumeTokens ?? []
    if (prompt.length === 0) return Promise.reject(new InvalidInputError('the prompt is empty', 'prompt'))
    // llama.cpp aborts the process on an out-of-range token id: check ids from callers here.
    const badToken = [...(typeof request.prompt === 'string' ? [] : prompt), ...resume].find(
      (id) => !Number.isInteger(id) || id < 0 || (this.model.vocabSize > 0 && id >= this.model.vocabSize),
    )
    if (badToken !== undefined) {
      return Promise.reject(new InvalidInputError(`token id ${badToken} is not in this model's vocabulary (size ${this.model.vocabSize})`, 'prompt'))
    }
    const prefillTokens = [...prompt, ...resume]
    if (prefillTokens.length + 1 > this.model.contextSize) {
      return Promise.reject(new ContextLengthExceededError(prefillTokens.length, this.model.contextSize))
    }
    let idle = 0
    for (const slot of this.slots) if (slot.state === 'idle') idle++
    if (this.queue.length >= Math.max(0, idle) + this.maxQueue) {
      const retry = Math.max(1, Math.ceil(this.meanServiceSeconds * (1 + this.queue.length / this.slots.length)))
      return Promise.reject(new QueueFullError(this.maxQueue, retry))
    }
    return new Promise<GenerateResult>((resolve, reject) => {
      const job: Job = {
        request,
        options,
        prefillTokens,
        promptTokens: prompt.length,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        settled: false,
        detachAbort: () => {},
      }
      const signal = options.signal
      if (signal !== undefined) {
        if (signal.aborted) {
          resolve(this.abortedResult(job))
          return
        }
        const onAbort = (): void => this.abort(job)
        signal.addEventListener('abort', onAbort, { once: true })
        job.detachAbort = () => signal.removeEventListener('abort', onAbort)
      }
      if (resume.length >= request.params.maxTokens) {
        // Nothing left to generate: finish without using a slot.
        job.detachAbort()
        resolve({
          text: '',
          tokens: [...resume],
          promptTokens: prompt.length,
          completionTokens: resume.length,
          finishReason: 'length',
          timings: { queuedMs: 0, timeToFirstTokenMs: 0, decodeMs: 0 },
        })
        return
      }
      this.queue.push(job)
      this.wake?.()
    })
  }

  async unload(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const job of this.queue.splice(0)) this.settle(job, this.abortedResult(job))
    for (const slot of this.slots) if (slot.job !== null) this.finish(slot, 'abort')
    this.wake?.()
    await this.loopDone
    for (const slot of this.slots) slot.sampler.dispose()
    await this.context.dispose()
    await this.llamaModel.dispose()
  }

  // ---- the owner loop -------------------------------------------------------------------

  private async runLoop(): Promise<void> {
    while (!this.closed) {
      let batched: Slot[] = []
      try {
        this.reclaimAndAdmit()
        batched = this.fillBatch()
        if (batched.length === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve
          })
          this.wake = null
          continue
        }
        await this.step(batched)
      } catch (error) {
        // Never let one bad step kill the owner loop: fail what was in it and go on.
        const failure = error instanceof DecodeError ? error : new DecodeError(error instanceof Error ? error.message : String(error), error)
        for (const slot of batched) this.fail(slot, failure)
      }
    }
    this.reclaimAndAdmit()
  }

  /** One llama_decode over `batched`, then one sampling per slot that has logits. */
  private async step(batched: readonly Slot[]): Promise<void> {
    try {
      await this.native.decodeBatch()
    } catch (error) {
      throw new DecodeError(error instanceof Error ? error.message : String(error), error)
    }
    const sampling: Promise<void>[] = []
    for (const slot of batched) if (slot.logitIndex >= 0 && slot.state !== 'done') sampling.push(this.sampleNext(slot))
    await Promise.all(sampling)
  }

  /** done → idle for finished slots; idle → prefill for queued jobs (FIFO). */
  private reclaimAndAdmit(): void {
    for (const slot of this.slots) {
      if (slot.state !== 'done') continue
      this.native.removeTokenCellsFromSequence(slot.sequence, 0, -1)
      slot.state = 'idle'
      slot.job = null
      slot.text = null
    }
    if (this.closed) return
    for (const slot of this.slots) {
      if (slot.state !== 'idle') continue
      const job = this.queue.shift()
      if (job === undefined) break
      this.assign(slot, job)
    }
  }

  private assign(slot: Slot, job: Job): void {
    const resume = job.request.resumeTokens ?? []
    const prompt = job.prefillTokens.slice(0, job.promptTokens)
    slot.state = 'prefill'
    slot.job = job
    slot.position = 0
    slot.prefillOffset = 0
    slot.logitIndex = -1
    slot.pendingToken = -1
    slot.recent = job.prefillTokens.slice(-Math.max(0, this.recentWindow(job)))
    slot.nextIndex = resume.length
    slot.unreleasedLogprobs = []
    slot.released = [...resume]
    slot.text = new OutputText(
      (tokens, lastTokens) => this.llamaModel.detokenize(tokens as readonly Token[], false, lastTokens as readonly Token[]),
      job.request.params.stop,
      [...prompt, ...resume],
    )
    slot.assignedAt = performance.now()
    slot.firstTokenAt = 0
    slot.lastTokenAt = 0
  }

  private recentWindow(job: Job): number {
    const n = job.request.params.repeatLastN
    return n < 0 ? job.prefillTokens.length : n
  }

  /**
   * Builds the next llama_decode: one token for every generating slot, then prefill chunks of
   * slots being admitted with what is left of the batch (chunked prefill, so a long prompt never
   * stalls the streams already running).
   */
  private fillBatch(): Slot[] {
    // Plan first, then allocate the llama_batch at its exact size (llama_batch_init mallocs a
    // sequence-id cell per token, so a 512-token batch for 1 decoding token is pure overhead).
    const plan: Array<{ slot: Slot; take: number }> = []
    let budget = this.batchSize
    for (const slot of this.slots) {
      slot.logitIndex = -1
      if (slot.state !== 'generating') continue
      plan.push({ slot, take: 1 })
      budget -= 1
    }
    for (const slot of this.slots) {
      if (slot.state !== 'prefill' || budget <= 0) continue
      const take = Math.min(slot.job!.prefillTokens.length - slot.prefillOffset, budget)
      plan.push({ slot, take })
      budget -= take
    }
    if (plan.length === 0) return []
    this.native.initBatch(this.batchSize - budget)
    for (const { slot, take } of plan) {
      if (slot.state === 'generating') {
        const indexes = this.native.addToBatch(slot.sequence, slot.position, Uint32Array.of(slot.pendingToken), Uint32Array.of(0))
        slot.position += 1
        slot.logitIndex = indexes[0]!
        continue
      }
      const job = slot.job!
      const isLast = slot.prefillOffset + take === job.prefillTokens.length
      const chunk = Uint32Array.from(job.prefillTokens.slice(slot.prefillOffset, slot.prefillOffset + take))
      const indexes = this.native.addToBatch(slot.sequence, slot.position, chunk, isLast ? Uint32Array.of(take - 1) : new Uint32Array(0))
      slot.position += take
      slot.prefillOffset += take
      if (isLast) slot.logitIndex = indexes[0]!
    }
    return plan.map((p) => p.slot)
  }

  private async sampleNext(slot: Slot): Promise<void> {
    const job = slot.job!
    const params = job.request.params
    const penalized = penalizedTokens(params, slot.recent)
    const needed = Math.min(candidatesNeeded(params, penalized), Math.max(1, this.model.vocabSize || Number.MAX_SAFE_INTEGER))
    if (slot.configuredTopK !== needed) {
      // The native chain only selects the `needed` highest raw logits (top_k, temperature 1 is the
      // identity); the choice itself is made by sampling.ts.
      slot.sampler.applyConfig({ temperature: 1, topK: needed, seed: 0 })
      slot.configuredTopK = needed
    }
    let flat: number[] | undefined
    try {
      const result = await this.native.sampleToken(slot.logitIndex, slot.sampler, false, false, [[], false, false, false, needed])
      flat = result[3]
    } catch (error) {
      this.fail(slot, new DecodeError(error instanceof Error ? error.message : String(error), error))
      return
    }
    if (slot.state === 'done' || slot.job !== job) return // aborted while sampling
    if (flat === undefined || flat.length === 0) {
      this.fail(slot, new DecodeError('llama.cpp returned no candidates'))
      return
    }
    const count = flat.length >> 1
    const ids = new Int32Array(count)
    const logits = new Float64Array(count)
    for (let j = 0; j < count; j++) {
      ids[j] = flat[2 * j]!
      logits[j] = flat[2 * j + 1]!
    }
    const t = slot.nextIndex
    const chosen = sampleToken({ ids, logits }, params, t, penalized)
    const now = performance.now()
    if (slot.firstTokenAt === 0) slot.firstTokenAt = now
    slot.lastTokenAt = now
    slot.state = 'generating'

    if (this.llamaModel.isEogToken(chosen.id as Token)) {
      this.release(slot, slot.text!.flush())
      this.finish(slot, 'stop')
      return
    }
    slot.nextIndex = t + 1
    slot.unreleasedLogprobs.push(chosen.logprob)
    const window = this.recentWindow(job)
    if (window > 0) {
      slot.recent.push(chosen.id)
      if (slot.recent.length > window) slot.recent.shift()
    }
    const pushed = slot.text!.push(chosen.id)
    this.release(slot, pushed.released)
    if (isDone(slot)) return // an onToken callback aborted
    if (pushed.stopped) {
      this.finish(slot, 'stop')
      return
    }
    if (slot.nextIndex >= params.maxTokens || slot.position >= this.model.contextSize) {
      this.release(slot, slot.text!.flush())
      this.finish(slot, 'length')
      return
    }
    slot.pendingToken = chosen.id
  }

  /** Delivers released tokens to the caller in output order. */
  private release(slot: Slot, tokens: readonly ReleasedToken[]): void {
    const onToken = slot.job?.options.onToken
    for (const token of tokens) {
      const index = slot.released.length
      slot.released.push(token.id)
      const logprob = slot.unreleasedLogprobs.shift() ?? 0
      try {
        onToken?.({ index, id: token.id, text: token.text, logprob })
      } catch (error) {
        // A failing consumer ends its own request, not the loop.
        this.fail(slot, error)
        return
      }
    }
  }

  private finish(slot: Slot, reason: FinishReason): void {
    const job = slot.job
    slot.state = 'done'
    if (job === null) return
    const now = performance.now()
    const firstTokenAt = slot.firstTokenAt || now
    this.settle(job, {
      text: slot.text?.text ?? '',
      tokens: slot.released,
      promptTokens: job.promptTokens,
      completionTokens: slot.released.length,
      finishReason: reason,
      timings: {
        queuedMs: slot.assignedAt - job.enqueuedAt,
        timeToFirstTokenMs: firstTokenAt - slot.assignedAt,
        decodeMs: (slot.lastTokenAt || firstTokenAt) - firstTokenAt,
      },
    })
    this.meanServiceSeconds = 0.8 * this.meanServiceSeconds + 0.2 * ((now - slot.assignedAt) / 1000)
    this.wake?.()
  }

  private fail(slot: Slot, error: unknown): void {
    const job = slot.job
    slot.state = 'done'
    if (job !== null && !job.settled) {
      job.settled = true
      job.detachAbort()
      job.reject(error)
    }
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job)
    if (queued >= 0) {
      this.queue.splice(queued, 1)
      this.settle(job, this.abortedResult(job))
      return
    }
    const slot = this.slots.find((s) => s.job === job && s.state !== 'done')
    if (slot !== undefined) this.finish(slot, 'abort')
  }

  private abortedResult(job: Job): GenerateResult {
    const resume = job.request.resumeTokens ?? []
    return {
      text: '',
      tokens: [...resume],
      promptTokens: job.promptTokens,
      completionTokens: resume.length,
      finishReason: 'abort',
      timings: { queuedMs: performance.now() - job.enqueuedAt, timeToFirstTokenMs: 0, decodeMs: 0 },
    }
  }

  private settle(job: Job, result: GenerateResult): void {
    if (job.settled) return
    job.settled = true
    job.detachAbort()
    job.resolve(result)
  }
}
