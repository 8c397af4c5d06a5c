/**
 * Writes the seeded ~85M-parameter Q8_0 llama-arch bench model (issue 3's runtime benchmark) to
 * `.cache/bench-model.gguf` (git-ignored), with a progress bar on a TTY and JSON-lines logs
 * otherwise, then prints {path, sha256, size, parameters, seconds} as JSON.
 *
 *   node --import ./src/polyfill.js --import tsx scripts/make-bench-model.ts [--out FILE] [--seed N] [--force]
 */
import { stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { BENCH_MODEL_PATH, writeBenchModel } from '../src/models/bench-model.js'
import { createProgress } from '../src/models/progress.js'
import { sha256File } from '../src/models/file-hash.js'

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: BENCH_MODEL_PATH },
    seed: { type: 'string', default: '0' },
    force: { type: 'boolean', default: false },
  },
})
const seed = Number(values.seed)
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
  console.error('--seed must be an unsigned 32-bit integer')
  process.exit(2)
}
const out = values.out!
const existing = await stat(out).catch(() => undefined)
if (existing !== undefined && !values.force) {
  console.log(JSON.stringify({ path: out, sha256: await sha256File(out), size: existing.size, cached: true }))
} else {
  const started = Date.now()
  let progress: ReturnType<typeof createProgress> | undefined
  const result = await writeBenchModel(out, {
    seed,
    onProgress: (p) => {
      progress ??= createProgress('bench-model', p.totalBytes)
      progress.update(p.bytesWritten, p.tensor)
    },
  })
  progress?.stop()
  console.log(JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000 }))
}
