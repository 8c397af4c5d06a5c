/** Public surface of the runtime layer: the Engine contract, the llama engine, sampling. */
export type * from './engine.js'
export type * from './service.js'
export { loadLlamaEngine } from './llama-engine.js'
export type { LlamaEngineOptions, SlotState } from './llama-engine.js'
export { LocalInferenceService } from './local-service.js'
export {
  ContextLengthExceededError,
  DecodeError,
  EngineUnloadedError,
  ModelLoadError,
  ModelNotFoundError,
  QueueFullError,
} from './errors.js'
export { DEFAULT_CHAT_STOP, DEFAULT_CHAT_TEMPLATE_NAME, renderDefaultChatTemplate } from './chat-template.js'
export { GREEDY_CANDIDATES, MAX_CANDIDATES, candidateCount, candidatesNeeded, penalizedTokens, sampleToken, topCandidates } from './sampling.js'
export type { Candidates, SampledToken } from './sampling.js'
export { gumbel, philox4x32, uniform } from './prf.js'
export { OutputText } from './output-text.js'
export type { ContinuationDetokenizer, PushResult, ReleasedToken } from './output-text.js'
