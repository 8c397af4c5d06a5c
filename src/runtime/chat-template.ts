import type { ChatMessage } from './engine.js'

/**
 * Chat rendering for models without a `tokenizer.chat_template` in their GGUF: ChatML
 * (https://github.com/openai/openai-python/blob/release-v0.28.0/chatml.md, the format most small
 * open models are trained on). Each message is
 *
 *     <|im_start|>{role}\n{content}<|im_end|>\n
 *
 * and the rendering ends with `<|im_start|>assistant\n`, the generation prompt. Generation
 * stops at `<|im_end|>` (see `DEFAULT_CHAT_STOP`), which such models may emit as plain text.
 */
export const DEFAULT_CHAT_TEMPLATE_NAME = 'chatml'

/** Stop string implied by the default template. */
export const DEFAULT_CHAT_STOP = '<|im_end|>'

/** Renders `messages` with the default ChatML template, ending with the assistant prompt. */
export function renderDefaultChatTemplate(messages: readonly ChatMessage[]): string {
  let out = ''
  for (const message of messages) out += `<|im_start|>${message.role}\n${message.content}<|im_end|>\n`
  return `${out}<|im_start|>assistant\n`
}
