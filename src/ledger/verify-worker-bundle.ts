/**
 * Where verifier threads load their code from, without TypeScript tooling in each thread.
 *
 * Worker threads do not inherit the parent's tsx loader hooks; registering tsx in each thread
 * costs seconds of start-up (its esbuild service and a transform per module). So the first pool
 * of a process bundles `verify-worker.ts` and the ledger/identity code it imports into ONE plain
 * ESM file with esbuild (which ships with tsx; ~0.1 s), content-addressed in
 * `node_modules/.cache/commons/` — npm packages stay external and resolve from there as from the
 * project — and threads load that file with plain node. No build step: `npm ci && npm start`
 * works as before. If bundling is impossible (no esbuild, read-only node_modules) threads fall
 * back to registering tsx themselves (`verify-worker-boot.mjs`); compiled JavaScript loads
 * `verify-worker.js` directly.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

let cached: URL | undefined

/** The URL verifier threads should load (computed once per process). */
export function verifierWorkerUrl(): URL {
  cached ??= resolveWorkerUrl()
  return cached
}

function resolveWorkerUrl(): URL {
  const self = import.meta.url
  if (!self.endsWith('.ts')) return new URL('./verify-worker.js', self)
  try {
    return bundleWorker()
  } catch {
    return new URL('./verify-worker-boot.mjs', self)
  }
}

function bundleWorker(): URL {
  const require = createRequire(import.meta.url)
  const esbuild = require('esbuild') as typeof import('esbuild')
  const entry = fileURLToPath(new URL('./verify-worker.ts', import.meta.url))
  const out = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  })
  const code = out.outputFiles[0]!.text
  // node_modules/esbuild/… → node_modules/.cache/commons: bare imports in the bundle resolve
  // from there up to the project's node_modules.
  const nodeModules = dirname(dirname(require.resolve('esbuild/package.json')))
  const dir = join(nodeModules, '.cache', 'commons')
  const file = join(dir, `verify-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true })
    // Write-then-rename: a concurrent process never loads a half-written file.
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, code)
    renameSync(tmp, file)
  }
  return pathToFileURL(file)
}
