import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseManifest, type ModelManifest } from '../models/manifest.js'

/** The repository (package) root, where the shipped `models/` folder lives. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The shipped demo model (trained by `npm run train`, issue 4); served by default when present. */
export const DEMO_MODEL_PATH = join(PACKAGE_ROOT, 'models', 'commons-demo.gguf')

/** A GGUF file found on this machine, with its provenance manifest when one sits beside it. */
export interface LocalModel {
  /** Served name: the file name without `.gguf`. */
  readonly name: string
  readonly path: string
  readonly sizeBytes: number
  /** `models/<name>.manifest.json`, validated (`src/models/manifest.ts`); absent when there is none. */
  readonly manifest?: ModelManifest
  /** Why the manifest beside the file could not be read, when it could not. */
  readonly manifestError?: string
}

/** Model folders a node looks in: the package's `models/`, then `<dataDir>/models/`. */
export function modelDirs(dataDir: string): string[] {
  return [join(PACKAGE_ROOT, 'models'), join(dataDir, 'models')]
}

/** Served name of a model file: its base name without `.gguf`. */
export function modelNameOf(path: string): string {
  return basename(path).replace(/\.gguf$/i, '')
}

/**
 * Reads `<dir>/<name>.manifest.json` beside a model file and validates its schema. Only its size
 * is checked against the file here (cheap); `verifyManifest` checks the sha256 where that matters
 * (governance admission). A manifest that fails is reported in `manifestError`, never served.
 */
export function readManifestBeside(modelPath: string): Pick<LocalModel, 'manifest' | 'manifestError'> {
  const path = join(dirname(modelPath), `${modelNameOf(modelPath)}.manifest.json`)
  if (!existsSync(path)) return {}
  try {
    const manifest = parseManifest(JSON.parse(readFileSync(path, 'utf8')))
    const size = statSync(modelPath).size
    if (manifest.file.size !== size) return { manifestError: `${path} describes a file of ${manifest.file.size} bytes, but ${modelPath} has ${size}` }
    return { manifest }
  } catch (err) {
    return { manifestError: `${path}: ${err instanceof Error ? err.message : String(err)}` }
  }
}

/** Describes one model file (name, size, manifest). */
export function describeModelFile(path: string): LocalModel {
  return { name: modelNameOf(path), path, sizeBytes: statSync(path).size, ...readManifestBeside(path) }
}

/** Every `*.gguf` in `dirs` (missing folders are skipped), in folder order then by name. */
export function listLocalModels(dirs: readonly string[]): LocalModel[] {
  const out: LocalModel[] = []
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.gguf'))
      .map((e) => e.name)
      .sort()
    for (const file of files) out.push(describeModelFile(join(dir, file)))
  }
  return out
}
