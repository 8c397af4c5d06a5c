/**
 * `npm run train [-- --quick] [--fresh] [--steps N]`: trains the demo model from the pinned
 * corpus (data/kjv.txt) with our BPE tokenizer, checkpointing to .cache/train/<run>/ so a killed
 * run resumes where it stopped (bit-identically). `--quick` runs the first QUICK_STEPS steps of
 * the very same configuration (same schedule, same batches) into its own checkpoint, so its
 * losses and weights equal the full run's at that step. Progress: a bar with loss and tokens/s
 * on a TTY, JSON lines otherwise. On completion writes `<dir>/summary.json` (read by export).
 * SIGINT/SIGTERM stop after the current step and checkpoint it.
 *
 * The run is single-threaded and bit-reproducible across x86-64 machines with the same Node;
 * to run it where the repository's node_modules are absent, bundle it:
 *   npx esbuild scripts/train.ts --bundle --platform=node --format=esm --outfile=DIR/train.mjs \
 *     --banner:js="<define __dirname/__filename/require for the CJS parts>"
 * and copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm next to it.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import cliProgress from 'cli-progress'
import { loadCorpus } from '../src/training/corpus.js'
import { demoTokenizer } from '../src/training/tokenizer-cache.js'
import { BpeCodec } from '../src/training/bpe.js'
import { train, type StepInfo } from '../src/training/trainer.js'
import { DEMO_MODEL, DEMO_TRAIN, QUICK_STEPS } from '../src/training/config.js'
import { loadCheckpoint } from '../src/training/checkpoint.js'
import { exportGguf, tokenizerSpecOf } from '../src/training/export.js'

/** Where the shipped model goes (`--export`, or at the end of a complete full run). */
const DEMO_GGUF = 'models/commons-demo.gguf'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const fresh = args.includes('--fresh')
const cacheDir = '.cache/train'
const runDir = join(cacheDir, quick ? 'quick' : 'full')
const checkpointPath = join(runDir, 'checkpoint.bin')
if (fresh && existsSync(runDir)) rmSync(runDir, { recursive: true })
mkdirSync(runDir, { recursive: true })

const log = (obj: Record<string, unknown>) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...obj }) + '\n')
// The training code's commit, for provenance; COMMONS_CODE_COMMIT when run outside a git
// checkout (e.g. from a bundle on another machine).
let commit = process.env.COMMONS_CODE_COMMIT ?? 'unknown'
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
} catch {
  // not a git checkout: keep the environment's value
}

if (args.includes('--export')) await exportDemo()
else await main()

async function main(): Promise<void> {
  const corpus = loadCorpus()
  const vocab = demoTokenizer(corpus.train, corpus.sha256, DEMO_MODEL.vocabSize, cacheDir)
  const codec = new BpeCodec(vocab)
  const tokens = Int32Array.from(codec.encode(corpus.train))
  const valTokens = Int32Array.from(codec.encode(corpus.validation))
  const stopAtStep = quick ? QUICK_STEPS : DEMO_TRAIN.steps
  log({ event: 'start', quick, commit, corpusSha256: corpus.sha256, trainTokens: tokens.length, validationTokens: valTokens.length, model: DEMO_MODEL, train: DEMO_TRAIN, stopAtStep })

  const tty = process.stdout.isTTY === true
  const bar = tty
    ? new cliProgress.SingleBar({ format: 'train |{bar}| {value}/{total} loss {loss} val {val} {tps} tok/s eta {eta_formatted}' }, cliProgress.Presets.shades_classic)
    : undefined
  let started = false
  const onStep = (s: StepInfo) => {
    if (bar) {
      if (!started) bar.start(stopAtStep, s.step - 1, { loss: '-', val: '-', tps: '-' })
      started = true
      bar.update(s.step, { loss: s.loss.toFixed(3), val: s.valLoss?.toFixed(3) ?? '-', tps: Math.round(s.tokensPerSecond) })
    } else log({ event: 'step', ...s })
  }

  const controller = new AbortController()
  process.on('SIGINT', () => controller.abort())
  process.on('SIGTERM', () => controller.abort())
  // --max-seconds S: stop gracefully (checkpointing) after S seconds, to fit a time slot.
  const maxAt = args.indexOf('--max-seconds')
  if (maxAt >= 0) setTimeout(() => controller.abort(), Number(args[maxAt + 1]) * 1000).unref()
  const result = await train({ model: DEMO_MODEL, train: DEMO_TRAIN, tokens, valTokens, checkpointPath, stopAtStep, onStep, signal: controller.signal })
  bar?.stop()
  const summary = {
    quick,
    runId: result.runId,
    commit,
    seed: DEMO_TRAIN.seed,
    steps: result.step,
    tokensSeen: result.step * DEMO_TRAIN.batchSize * DEMO_MODEL.contextLength,
    wallSeconds: result.wallSeconds,
    finalTrainLoss: result.losses.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, result.losses.length),
    valLoss: result.valLoss,
    weightsSha256: result.weightsSha256,
    losses: result.losses,
  }
  if (result.step === stopAtStep) writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2))
  log({ event: 'done', ...summary, losses: undefined, checkpoint: checkpointPath })
  if (!quick && result.step === DEMO_TRAIN.steps) await exportDemo()
}

/** Writes models/commons-demo.gguf (Q8_0) from the full run's final checkpoint. */
async function exportDemo(): Promise<void> {
  const ckpt = loadCheckpoint(join(cacheDir, 'full', 'checkpoint.bin'))
  if (!ckpt || ckpt.header.step !== DEMO_TRAIN.steps) throw new Error(`the full run has not finished (checkpoint at step ${ckpt?.header.step ?? 0} of ${DEMO_TRAIN.steps})`)
  const corpus = loadCorpus()
  const vocab = demoTokenizer(corpus.train, corpus.sha256, DEMO_MODEL.vocabSize, cacheDir)
  await exportGguf(DEMO_GGUF, {
    name: 'commons-demo',
    cfg: DEMO_MODEL,
    params: ckpt.params,
    tokenizer: tokenizerSpecOf(vocab),
    type: 'Q8_0',
    general: { license: 'Apache-2.0', description: 'Commons demo model: trained by npm run train on the public-domain KJV Bible' },
  })
  log({ event: 'exported', path: DEMO_GGUF, step: ckpt.header.step })
}

