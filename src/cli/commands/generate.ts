import type { Command } from 'commander'
import { randomInt } from 'node:crypto'
import { resolveDataDir } from '../../node/datadir.js'
import { intFlag, numberFlag } from '../exit.js'

interface GenerateOptions {
  model?: string
  dataDir?: string
  maxTokens: number
  temperature: number
  topP: number
  topK: number
  minP: number
  repeatPenalty: number
  seed?: number
  stop: string[]
  chat?: boolean
  threads?: number
  json?: boolean
}

/**
 * `commons generate PROMPT`: loads the model in this process (no server) and streams the output
 * to stdout as it is generated; `--json` prints one JSON object at the end instead.
 */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate text from PROMPT with a local model, streaming to stdout')
    .argument('<prompt>', 'prompt text')
    .option('--model <file|name>', 'GGUF file or local model name (default: the built-in model)')
    .option('--data-dir <dir>', 'data directory (default $COMMONS_HOME or ~/.commons)')
    .option('--max-tokens <n>', 'most tokens to generate', intFlag('--max-tokens', 1, 1 << 20), 128)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', numberFlag('--temperature', 0, 2), 0.8)
    .option('--top-p <p>', 'nucleus sampling cut-off (1 = off)', numberFlag('--top-p', 0.000001, 1), 0.95)
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', intFlag('--top-k', 0, 1 << 20), 40)
    .option('--min-p <p>', 'drop tokens below p × the top probability (0 = off)', numberFlag('--min-p', 0, 1), 0.05)
    .option('--repeat-penalty <r>', 'penalty for recently seen tokens (1 = off)', numberFlag('--repeat-penalty', 0, 10), 1.1)
    .option('--seed <n>', 'sampling seed, 0..4294967295 (default random; printed with --json)', intFlag('--seed', 0, 0xffffffff))
    .option('--stop <text>', 'stop before this text (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--chat', "render PROMPT as a user message with the model's chat template")
    .option('--threads <n>', 'CPU threads for decoding', intFlag('--threads', 1, 1024))
    .option('--json', 'print one JSON object with the text, usage and seed instead of streaming')
    .action(async (prompt: string, opts: GenerateOptions) => {
      // Imported here so `--help` and usage errors do not pay for loading llama.cpp.
      const [{ ensureTinyModel }, { resolveModel }, { loadLlamaEngine }] = await Promise.all([
        import('../../models/tiny.js'),
        import('../../node/resolve-model.js'),
        import('../../runtime/llama-engine.js'),
      ])
      const dataDir = resolveDataDir(opts.dataDir)
      const model = await resolveModel(opts.model, dataDir, ensureTinyModel)
      const engine = await loadLlamaEngine({
        modelPath: model.path,
        name: model.name,
        parallel: 1,
        ...(model.sha256 === undefined ? {} : { sha256: model.sha256 }),
        ...(opts.threads === undefined ? {} : { threads: opts.threads }),
      })
      const abort = new AbortController()
      const onSigint = (): void => abort.abort()
      process.once('SIGINT', onSigint)
      // `commons generate … | head` closes our stdout early: stop generating instead of crashing on EPIPE.
      const onStdoutError = (): void => abort.abort()
      // Left attached: the error event can arrive after the last write returned.
      process.stdout.on('error', onStdoutError)
      try {
        const seed = opts.seed ?? randomInt(0, 0x1_0000_0000)
        const text = opts.chat === true ? engine.applyChatTemplate([{ role: 'user', content: prompt }]) : prompt
        const stop = opts.chat === true ? [...opts.stop, ...(engine.chatStop ?? [])] : opts.stop
        const result = await engine.generate(
          {
            prompt: text,
            params: {
              temperature: opts.temperature,
              topP: opts.topP,
              topK: opts.topK,
              minP: opts.minP,
              repeatPenalty: opts.repeatPenalty,
              repeatLastN: 64,
              seed,
              maxTokens: opts.maxTokens,
              stop,
            },
          },
          {
            signal: abort.signal,
            ...(opts.json === true ? {} : { onToken: (token) => void (abort.signal.aborted || process.stdout.write(token.text)) }),
          },
        )
        if (opts.json === true) {
          process.stdout.write(
            `${JSON.stringify({
              model: engine.model.name,
              sha256: engine.model.sha256,
              seed,
              text: result.text,
              finish_reason: result.finishReason,
              usage: { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens },
              timings: result.timings,
            })}\n`,
          )
        } else if (!abort.signal.aborted) {
          process.stdout.write('\n')
        }
      } finally {
        process.off('SIGINT', onSigint)
        await engine.unload()
      }
    })
}
