import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ModelFileNotFoundError } from './errors.js'
import { DEMO_MODEL_PATH, describeModelFile, listLocalModels, modelDirs, type LocalModel } from './local-models.js'

/** Writes (once) the tiny built-in model into `dir` and returns where it is. */
export type TinyModelProvider = (dir: string) => Promise<{ readonly path: string; readonly sha256?: string }>

/** The model a node or `commons generate` will load. */
export interface ResolvedModel extends LocalModel {
  /** True when no `--model` was given and the built-in model was picked. */
  readonly builtIn: boolean
  /** Known file hash (the tiny model's provider computes it), saving a re-hash at load. */
  readonly sha256?: string
}

/**
 * Picks the model: `--model` as a file path, else as the name of a local model (package
 * `models/` or `<dataDir>/models/`); with no `--model`, the trained demo model
 * `models/commons-demo.gguf` when it exists, else the tiny built-in model (written on first use
 * into `<dataDir>/models/`). Loading (and so validating) the file is the engine's job.
 */
export async function resolveModel(flag: string | undefined, dataDir: string, ensureTiny: TinyModelProvider): Promise<ResolvedModel> {
  if (flag !== undefined) {
    if (existsSync(flag) && statSync(flag).isFile()) return { ...describeModelFile(flag), builtIn: false }
    const byName = listLocalModels(modelDirs(dataDir)).find((m) => m.name === flag)
    if (byName !== undefined) return { ...byName, builtIn: false }
    throw new ModelFileNotFoundError(flag)
  }
  if (existsSync(DEMO_MODEL_PATH)) return { ...describeModelFile(DEMO_MODEL_PATH), builtIn: true }
  const tiny = await ensureTiny(join(dataDir, 'models'))
  const described = describeModelFile(tiny.path)
  return tiny.sha256 === undefined ? { ...described, builtIn: true } : { ...described, builtIn: true, sha256: tiny.sha256 }
}
