import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { z } from 'zod'
import { CorruptModelError, ModelNotFoundError } from './errors.js'
import { metadataValue, openGguf } from './gguf/reader.js'
import { checkManifestAgainstGguf, modelManifestSchema, modelNameSchema, type ModelManifest } from './manifest.js'
import { createProgress } from './progress.js'
import { sha256File } from './file-hash.js'

/** One model in the store. */
export interface StoredModel {
  readonly sha256: string
  /** `<dataDir>/models/<sha256>.gguf` */
  readonly path: string
  readonly size: number
  /** Names it can be resolved by (import names, manifest name, GGUF `general.name`). */
  readonly names: readonly string[]
  readonly importedAt: string
  readonly manifest?: ModelManifest
}

/** Sidecar `<sha256>.json` beside each model file (the store's only index: no database needed). */
const sidecarSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().positive(),
  names: z.array(z.string()),
  importedAt: z.string(),
  manifest: modelManifestSchema.optional(),
})

export interface ImportOptions {
  /** Extra name to resolve this model by (validated like manifest names). */
  readonly name?: string
  /** When given, the file must match it (hash, size, architecture); it is stored beside it. */
  readonly manifest?: ModelManifest
  readonly signal?: AbortSignal
  /** Progress display: a bar on a TTY / JSON lines otherwise ('auto', default), or none. */
  readonly progress?: 'auto' | 'none'
}

const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * Content-addressed model store under `<dataDir>/models/`: each model is `<sha256>.gguf`, so a
 * file's name is its identity and a corrupted or swapped file is detectable (`validate`). Files
 * come in only through `import`, which hashes while copying, validates the GGUF with our reader,
 * and renames into place atomically — a crash leaves at most a `.partial` file, never a bad model.
 */
export class ModelStore {
  readonly dir: string

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'models')
  }

  private pathOf(sha256: string): string {
    return join(this.dir, `${sha256}.gguf`)
  }

  private sidecarOf(sha256: string): string {
    return join(this.dir, `${sha256}.json`)
  }

  /** Copies a GGUF file into the store (no-op copy if already there) and records its names. */
  async import(source: string, options: ImportOptions = {}): Promise<StoredModel> {
    if (options.name !== undefined) modelNameSchema.parse(options.name)
    await mkdir(this.dir, { recursive: true })
    const total = (await stat(source)).size
    const tmp = join(this.dir, `.import-${process.pid}-${randomBytes(6).toString('hex')}.partial`)
    const hash = createHash('sha256')
    const progress = createProgress('import-model', total, { silent: options.progress === 'none' })
    let done = 0
    let stopped = false
    const stopProgress = (): void => {
      if (!stopped) progress.stop()
      stopped = true
    }
    try {
      await pipeline(
        createReadStream(source),
        new Transform({
          transform(chunk: Buffer, _enc, callback) {
            hash.update(chunk)
            done += chunk.length
            progress.update(done)
            callback(null, chunk)
          },
        }),
        createWriteStream(tmp, { flags: 'wx' }),
        { signal: options.signal },
      )
      stopProgress()
      const sha256 = hash.digest('hex')
      const names = new Set<string>(options.name !== undefined ? [options.name] : [])
      const gguf = openGguf(tmp)
      try {
        const generalName = metadataValue(gguf, 'general.name')
        if (typeof generalName === 'string' && modelNameSchema.safeParse(generalName).success) names.add(generalName)
        if (options.manifest !== undefined) {
          if (options.manifest.file.sha256 !== sha256 || options.manifest.file.size !== done) {
            throw new CorruptModelError(`${source}: sha256 ${sha256} / size ${done} differ from manifest '${options.manifest.name}'`)
          }
          checkManifestAgainstGguf(options.manifest, gguf, source)
          names.add(options.manifest.name)
        }
      } finally {
        gguf.close()
      }
      const fh = await open(tmp, 'r+')
      await fh.sync()
      await fh.close()
      const target = this.pathOf(sha256)
      if ((await stat(target).catch(() => undefined)) === undefined) await rename(tmp, target)
      else await rm(tmp, { force: true })
      const previous = await this.readSidecar(sha256)
      const record = {
        sha256,
        size: done,
        names: [...new Set([...(previous?.names ?? []), ...names])].sort(),
        importedAt: previous?.importedAt ?? new Date().toISOString(),
        ...(options.manifest ?? previous?.manifest ? { manifest: options.manifest ?? previous?.manifest } : {}),
      }
      await this.writeSidecar(record)
      return { ...record, path: target }
    } catch (err) {
      stopProgress()
      await rm(tmp, { force: true })
      throw err
    }
  }

  private async readSidecar(sha256: string): Promise<z.infer<typeof sidecarSchema> | undefined> {
    const text = await readFile(this.sidecarOf(sha256), 'utf8').catch(() => undefined)
    if (text === undefined) return undefined
    try {
      const parsed = sidecarSchema.safeParse(JSON.parse(text))
      return parsed.success && parsed.data.sha256 === sha256 ? parsed.data : undefined
    } catch {
      return undefined
    }
  }

  private async writeSidecar(record: z.infer<typeof sidecarSchema>): Promise<void> {
    const tmp = `${this.sidecarOf(record.sha256)}.${process.pid}.tmp`
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`)
    await rename(tmp, this.sidecarOf(record.sha256))
  }

  /**
   * Every model file in the store, newest import first. A `<sha256>.gguf` without a readable
   * sidecar is still listed (no names), so nothing in the folder is invisible.
   */
  async list(): Promise<StoredModel[]> {
    const files = await readdir(this.dir).catch(() => [] as string[])
    const out: StoredModel[] = []
    for (const file of files) {
      const sha256 = file.slice(0, -'.gguf'.length)
      if (!file.endsWith('.gguf') || !SHA256_HEX.test(sha256)) continue
      const side = await this.readSidecar(sha256)
      const size = (await stat(this.pathOf(sha256))).size
      out.push({
        sha256,
        path: this.pathOf(sha256),
        size,
        names: side?.names ?? [],
        importedAt: side?.importedAt ?? '',
        ...(side?.manifest !== undefined ? { manifest: side.manifest } : {}),
      })
    }
    return out.sort((a, b) => (a.importedAt < b.importedAt ? 1 : a.importedAt > b.importedAt ? -1 : a.sha256 < b.sha256 ? -1 : 1))
  }

  /**
   * Finds a model by full sha256, by a unique sha256 prefix of at least 12 hex digits, or by
   * name (the most recent import wins when several share one). Throws `ModelNotFoundError`.
   */
  async resolve(nameOrHash: string): Promise<StoredModel> {
    const models = await this.list()
    const key = nameOrHash.toLowerCase()
    const exact = models.find((m) => m.sha256 === key)
    if (exact !== undefined) return exact
    if (/^[0-9a-f]{12,63}$/.test(key)) {
      const prefixed = models.filter((m) => m.sha256.startsWith(key))
      if (prefixed.length === 1) return prefixed[0]!
    }
    const named = models.find((m) => m.names.includes(nameOrHash))
    if (named !== undefined) return named
    throw new ModelNotFoundError(nameOrHash)
  }

  /**
   * Re-checks a stored model: the file's sha256 must still be its name and it must parse as
   * GGUF. Throws `CorruptModelError` (or `ModelNotFoundError`).
   */
  async validate(nameOrHash: string, options: { signal?: AbortSignal } = {}): Promise<StoredModel> {
    const model = await this.resolve(nameOrHash)
    options.signal?.throwIfAborted()
    const actual = await sha256File(model.path)
    if (actual !== model.sha256) throw new CorruptModelError(`${model.path}: content hash is ${actual}, not its name`)
    openGguf(model.path).close()
    return model
  }
}
