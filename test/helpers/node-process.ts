/**
 * Helpers for end-to-end tests that need REAL node processes (not `app.inject()`):
 *
 *   const node = await spawnNode({ args: ['--model', tinyPath, '--parallel', '2'] })
 *   const res = await fetch(`${node.url}/healthz`)   // node.url = http://127.0.0.1:<port>
 *   await node.stop()                                 // SIGTERM, waits, removes its temp data dir
 *
 *   const { code, stdout, stderr } = await runCli(['models', '--json'])
 *
 * `spawnNode` runs `bin/commons.js start --port 0 --data-dir <fresh temp dir>` (plus `args`),
 * reads the API URL the node prints on stdout, then waits until `GET /healthz` answers 200.
 * `tinyModelPath()` writes the tiny built-in model once per test process into a temp dir, so
 * several nodes share one file instead of each writing its own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureTinyModel } from '../../src/models/tiny.js'

/** Repository root (where `bin/commons.js` lives). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const BIN = join(REPO_ROOT, 'bin', 'commons.js')

/** A fresh temp dir, removed by the returned `cleanup`. */
export function tempDir(prefix = 'commons-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

let tinyDir: { path: string; cleanup: () => void } | undefined
let tiny: Promise<{ path: string; sha256: string }> | undefined

/** Path (and sha256) of the tiny built-in model, written once per test process. */
export function tinyModel(): Promise<{ path: string; sha256: string }> {
  if (tiny === undefined) {
    tinyDir = tempDir('commons-tiny-')
    const dir = tinyDir
    process.once('exit', () => dir.cleanup())
    tiny = ensureTinyModel(dir.path)
  }
  return tiny
}

export interface SpawnedNode {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly child: ChildProcess
  /** Everything the process printed so far. */
  stdout(): string
  stderr(): string
  /** SIGTERM, wait for exit (SIGKILL after `graceMs`), remove the temp data dir; returns the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

export interface SpawnNodeOptions {
  /** Extra `commons start` flags. */
  readonly args?: readonly string[]
  /** Use this data dir instead of a fresh temp one (then it is not removed on stop). */
  readonly dataDir?: string
  readonly env?: NodeJS.ProcessEnv
  /** Give up (and kill the process) if it is not healthy by then; default 180 s (busy CI machines). */
  readonly timeoutMs?: number
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

/** Starts a real node process on a free port and waits until it is healthy. */
export async function spawnNode(options: SpawnNodeOptions = {}): Promise<SpawnedNode> {
  const owned = options.dataDir === undefined ? tempDir('commons-node-') : undefined
  const dataDir = options.dataDir ?? owned!.path
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))

  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await waitForExit(child)
      clearTimeout(timer)
    }
    owned?.cleanup()
    return child.exitCode
  }

  const deadline = Date.now() + (options.timeoutMs ?? 180_000)
  try {
    let url: string | undefined
    while (url === undefined) {
      const match = /^API: (http:\/\/\S+)\/v1$/m.exec(out)
      if (match) url = match[1]
      else if (child.exitCode !== null) throw new Error(`node exited with code ${child.exitCode}: ${err.trim()}`)
      else if (Date.now() > deadline) throw new Error(`node did not print its URL in time; stderr: ${err.trim()}`)
      else await new Promise((r) => setTimeout(r, 50))
    }
    for (;;) {
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false)
      if (ok) break
      if (Date.now() > deadline) throw new Error(`node at ${url} never became healthy`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const port = Number(new URL(url).port)
    return { url, port, dataDir, child, stdout: () => out, stderr: () => err, stop }
  } catch (error) {
    await stop(2000)
    throw error
  }
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `bin/commons.js ARGS` to completion (killed after `timeoutMs`, default 180 s: CI machines can be very busy). */
export async function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000)
  // 'close' (not 'exit') so stdout and stderr are fully read.
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
