import type { Command } from 'commander'
import { resolveDataDir } from '../../node/datadir.js'
import { DEMO_MODEL_PATH, listLocalModels, modelDirs, type LocalModel } from '../../node/local-models.js'

interface ModelsOptions {
  dataDir?: string
  json?: boolean
}

/** A few manifest fields worth a glance; the full manifest is in `--json` and `/v1/models`. */
function manifestSummary(model: LocalModel): string {
  if (model.manifestError !== undefined) return `manifest invalid: ${model.manifestError}`
  const m = model.manifest
  if (m === undefined) return 'no manifest'
  const origin = m.provenance.kind === 'trained' ? 'trained' : m.provenance.kind === 'synthetic' ? 'synthetic weights' : 'undeclared origin'
  return `${m.name} v${m.version}, license ${m.license}, ${m.architecture.name} ${m.architecture.parameters.toLocaleString('en')} params, ${m.quantization}, ${origin}, sha256 ${m.file.sha256.slice(0, 12)}…`
}

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

/** `commons models`: the GGUF files in the package's `models/` and `<dataDir>/models/`. */
export function registerModels(program: Command): void {
  program
    .command('models')
    .description("list local models (package models/ and the data dir's models/) with their manifest summary")
    .option('--data-dir <dir>', 'data directory (default $COMMONS_HOME or ~/.commons)')
    .option('--json', 'print JSON')
    .action((opts: ModelsOptions) => {
      const dataDir = resolveDataDir(opts.dataDir)
      const models = listLocalModels(modelDirs(dataDir))
      if (opts.json === true) {
        const rows = models.map((m) => ({
          name: m.name,
          path: m.path,
          size_bytes: m.sizeBytes,
          demo: m.path === DEMO_MODEL_PATH,
          manifest: m.manifest ?? null,
          ...(m.manifestError === undefined ? {} : { manifest_error: m.manifestError }),
        }))
        process.stdout.write(`${JSON.stringify(rows)}\n`)
        return
      }
      if (models.length === 0) {
        process.stdout.write("no local models yet ('commons start' writes the tiny built-in model on first use)\n")
        return
      }
      for (const m of models) {
        process.stdout.write(`${m.name}${m.path === DEMO_MODEL_PATH ? ' (default)' : ''}\n  ${m.path} (${humanSize(m.sizeBytes)})\n  ${manifestSummary(m)}\n`)
      }
    })
}
