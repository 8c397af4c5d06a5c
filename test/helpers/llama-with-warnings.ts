import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp'

/**
 * A CPU-only llama.cpp instance whose warnings and errors are collected instead of printed, so a
 * test can assert that loading our GGUF files raises none (e.g. no tokenizer warnings).
 */
export async function getLlamaCollectingWarnings(): Promise<{ llama: Llama; warnings: string[] }> {
  const warnings: string[] = []
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      if ((level === LlamaLogLevel.warn || level === LlamaLogLevel.error) && message.trim() !== '') warnings.push(message)
    },
  })
  return { llama, warnings }
}
