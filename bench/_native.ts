/**
 * Native llama.cpp reference for the runtime benchmarks: builds `llama-bench` and `llama-server`
 * once from the llama.cpp source node-llama-cpp ships (`llama/gitRelease.bundle`, the exact
 * version its prebuilt addon was built from), CPU only, Release, cached in `.cache/`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const repoRoot = resolve(import.meta.dirname, '..')
const sourceDir = join(repoRoot, '.cache', 'llama.cpp-src')
const buildDir = join(sourceDir, 'build')
const bundle = join(repoRoot, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle')

export const llamaBenchPath = join(buildDir, 'bin', 'llama-bench')
export const llamaServerPath = join(buildDir, 'bin', 'llama-server')

function run(command: string, args: readonly string[], cwd: string): void {
  process.stderr.write(`$ ${command} ${args.join(' ')}\n`)
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with status ${result.status}`)
}

/**
 * Clones and builds the native tools (`llama-bench`, `llama-server`, or the ones named) if they
 * are not cached yet (tens of minutes on 2 busy cores).
 */
export function ensureNativeTools(targets: ReadonlyArray<'llama-bench' | 'llama-server'> = ['llama-bench', 'llama-server']): void {
  const paths = { 'llama-bench': llamaBenchPath, 'llama-server': llamaServerPath }
  const missing = targets.filter((t) => !existsSync(paths[t]))
  if (missing.length === 0) return
  if (!existsSync(sourceDir)) run('git', ['clone', '--quiet', bundle, sourceDir], repoRoot)
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
    run('cmake', [
      // GGML_OPENMP=OFF: node-llama-cpp's prebuilt addon uses ggml's own thread pool, not OpenMP.
      '-B', 'build', '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release', '-DGGML_NATIVE=ON', '-DGGML_OPENMP=OFF', '-DLLAMA_CURL=OFF',
      '-DGGML_CUDA=OFF', '-DGGML_VULKAN=OFF', '-DGGML_METAL=OFF', '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF',
    ], sourceDir)
  }
  run('cmake', ['--build', 'build', '-j2', '--target', ...missing], sourceDir)
}

/** Text-generation speed of native llama.cpp: `llama-bench -p 0 -n <tokens>` (tg test). */
export function llamaBenchDecode(model: string, options: { threads: number; tokens: number; repetitions: number }): number {
  const args = ['-m', model, '-p', '0', '-n', String(options.tokens), '-t', String(options.threads), '-r', String(options.repetitions), '-o', 'json']
  const result = spawnSync(llamaBenchPath, args, { encoding: 'utf8', maxBuffer: 16 << 20 })
  if (result.status !== 0) throw new Error(`llama-bench failed: ${result.stderr}`)
  const rows = JSON.parse(result.stdout) as Array<{ n_gen: number; avg_ts: number }>
  const tg = rows.find((r) => r.n_gen === options.tokens)
  if (tg === undefined) throw new Error('llama-bench printed no tg result')
  return tg.avg_ts
}

/** A child process serving HTTP on 127.0.0.1, stopped with `stop()`. */
export interface ServerProcess {
  readonly baseUrl: string
  stop(): Promise<void>
}

/** Starts a process and waits until `GET <baseUrl><healthPath>` answers 200 (at most `timeoutMs`). */
export async function startServer(
  command: string,
  args: readonly string[],
  options: { port: number; healthPath: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const baseUrl = `http://127.0.0.1:${options.port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited (${child.exitCode}): ${stderr}`)
    try {
      const res = await fetch(baseUrl + options.healthPath)
      if (res.ok) return { baseUrl, stop }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  await stop()
  throw new Error(`${command} did not become healthy in ${options.timeoutMs} ms: ${stderr}`)
}

/** Result of one streamed completion measured on the client. */
export interface StreamMeasure {
  readonly completionTokens: number
  readonly firstTokenAt: number
  readonly lastTokenAt: number
  readonly text: string
}

/**
 * Streams `POST /v1/completions` (OpenAI format, which both llama-server and Commons serve) and
 * records when tokens arrive; the token count is the server's `usage.completion_tokens`.
 */
export async function streamCompletion(baseUrl: string, body: Record<string, unknown>): Promise<StreamMeasure> {
  const res = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  })
  if (!res.ok || res.body === null) throw new Error(`completion failed: ${res.status} ${await res.text()}`)
  const decoder = new TextDecoder()
  let buffer = ''
  let text = ''
  let firstTokenAt = 0
  let lastTokenAt = 0
  let completionTokens = -1
  let chunks = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let newline: number
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim()
      buffer = buffer.slice(newline + 1)
      if (!line.startsWith('data:')) continue
      const data = line.slice(5).trim()
      if (data === '[DONE]') continue
      const event = JSON.parse(data) as { choices?: Array<{ text?: string }>; usage?: { completion_tokens?: number } | null }
      const piece = event.choices?.[0]?.text
      if (typeof piece === 'string' && piece.length > 0) {
        const now = performance.now()
        if (firstTokenAt === 0) firstTokenAt = now
        lastTokenAt = now
        text += piece
        chunks++
      }
      if (event.usage?.completion_tokens !== undefined) completionTokens = event.usage.completion_tokens
    }
  }
  return { completionTokens: completionTokens >= 0 ? completionTokens : chunks, firstTokenAt, lastTokenAt, text }
}
