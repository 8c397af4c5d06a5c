import { basename } from 'node:path'
import { existsSync } from 'node:fs'
import type { Logger } from 'pino'
import { buildManifest, modelNameSchema, verifyManifest, type ModelManifest } from '../models/manifest.js'
import { DEMO_MODEL_PATH, readManifestBeside } from './local-models.js'
import type { ResolvedModel } from './resolve-model.js'

/**
 * The models a node's FIRST start admits in its local genesis (`params.models`, read by
 * `src/governance/genesis.ts`): governance decides what is served (issue 7), so a fresh
 * `commons start` serves its model as an admitted one, with provenance, and its admission is
 * auditable like any other ("listed in the genesis").
 *
 * - The shipped demo model, by its committed manifest (`models/commons-demo.manifest.json`),
 *   checked against the file — also on a `--no-worker` gateway, whose local swarm serves it.
 * - The model the node starts with: the manifest beside the file when there is a valid one that
 *   matches it; otherwise one built from the file itself (sha256, size and GGUF metadata) with
 *   license "unknown" and provenance `undeclared` — nothing is claimed that the file does not show.
 *
 * A file no manifest can be made for (not a llama GGUF) is left out with a warning: the node then
 * starts, but governance does not let it serve that file until a proposal admits it.
 */
export interface GenesisModels {
  readonly manifests: ModelManifest[]
  /** sha256 of the started model's file, when it was hashed here (saves the engine a second pass). */
  readonly startedSha256?: string
}

/** Served names are file names; a manifest name must fit `modelNameSchema`. */
function manifestNameFor(served: string): string {
  if (modelNameSchema.safeParse(served).success) return served
  const cleaned = served.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64)
  return cleaned === '' ? 'model' : cleaned
}

/** The manifest of a model file: its own (when valid and it matches the file) or one built from the file. */
export async function manifestForModelFile(model: Pick<ResolvedModel, 'name' | 'path' | 'manifest' | 'manifestError'>, logger?: Logger): Promise<ModelManifest> {
  if (model.manifest !== undefined) {
    try {
      await verifyManifest(model.manifest, model.path)
      return model.manifest
    } catch (err) {
      logger?.warn({ path: model.path, err: (err as Error).message }, 'the manifest beside the model does not match the file; admitting it as a model of undeclared origin')
    }
  } else if (model.manifestError !== undefined) {
    logger?.warn({ path: model.path, err: model.manifestError }, 'the manifest beside the model is invalid; admitting it as a model of undeclared origin')
  }
  const file = basename(model.path)
  return buildManifest(model.path, {
    name: manifestNameFor(model.name),
    version: 'unknown',
    license: 'unknown',
    description: `Model file ${file}, admitted by the local genesis of the node that started with it; no provenance was declared.`,
    provenance: { kind: 'undeclared', note: 'built by commons start from the GGUF file itself (sha256, size, metadata); no manifest sat beside it' },
    fileName: /\.gguf$/i.test(file) ? file : `${manifestNameFor(model.name)}.gguf`,
  })
}

/** Manifests for a first start's local genesis: the demo model and the started model (deduplicated by file hash). */
export async function localGenesisModels(started: ResolvedModel | undefined, logger?: Logger): Promise<GenesisModels> {
  const manifests = new Map<string, ModelManifest>()
  if (existsSync(DEMO_MODEL_PATH)) {
    const demo = readManifestBeside(DEMO_MODEL_PATH)
    try {
      if (demo.manifest === undefined) throw new Error(demo.manifestError ?? 'no manifest beside it')
      await verifyManifest(demo.manifest, DEMO_MODEL_PATH)
      manifests.set(demo.manifest.file.sha256, demo.manifest)
    } catch (err) {
      logger?.warn({ path: DEMO_MODEL_PATH, err: (err as Error).message }, 'demo model not admitted in the local genesis')
    }
  }
  let startedSha256: string | undefined
  if (started !== undefined) {
    try {
      const manifest = await manifestForModelFile(started, logger)
      startedSha256 = manifest.file.sha256
      if (!manifests.has(startedSha256)) manifests.set(startedSha256, manifest)
    } catch (err) {
      logger?.warn({ path: started.path, err: (err as Error).message }, 'no manifest can be made for this model file: not admitted in the local genesis, so it is not served')
    }
  }
  return startedSha256 === undefined ? { manifests: [...manifests.values()] } : { manifests: [...manifests.values()], startedSha256 }
}
