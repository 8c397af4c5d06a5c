/**
 * Native llama.cpp reference for the runtime benchmarks: builds `llama-bench` and `llama-server`
 * once from the llama.cpp source node-llama-cpp ships (`llama/gitRelease.bundle`, the exact
 * version its prebuilt addon was built from), CPU only, Release, cached in `.cache/`.
 *
 * Which CPU kernels: node-llama-cpp ships ggml's CPU backend in several variants
 * (`libggml-cpu-haswell.so`, `-skylakex`, …) and loads the best one this CPU supports. By default
 * the reference is built with that same variant's instruction sets (read from ggml's own
 * `ggml_add_cpu_backend_variant` table), so the ratios measure our overhead around llama.cpp and
 * not a compiler flag. `BENCH_NATIVE_BUILD=native` builds with `-march=native` instead (a faster
 * binary than any prebuilt one; reported as such).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const repoRoot = resolve(import.meta.dirname, '..')
const sourceDir = join(repoRoot, '.cache', 'llama.cpp-src')
const bundle = join(repoRoot, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle')

/** How the reference binaries are compiled. */
export interface NativeBuild {
  /** `native` (-march=native) or the name of a ggml CPU variant (`haswell`, …). */
  readonly flavour: string
  readonly cmakeFlags: readonly string[]
  readonly binDir: string
}

function run(command: string, args: readonly string[], cwd: string): void {
  process.stderr.write(`$ ${command} ${args.join(' ')}\n`)
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with status ${result.status}`)
}

/**
 * The ggml CPU variant node-llama-cpp loaded into this process (from `/proc/self/maps`), or
 * undefined before a model is loaded or where the addon has a single CPU backend.
 */
export function loadedCpuVariant(): string | undefined {
  if (!existsSync('/proc/self/maps')) return undefined
  return /libggml-cpu-([a-z0-9_]+)\.so/.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1]
}

/** `-DGGML_<FEATURE>=ON` for the features ggml's CMakeLists gives `variant`. */
function variantFlags(variant: string): string[] {
  const cmake = readFileSync(join(sourceDir, 'ggml', 'src', 'CMakeLists.txt'), 'utf8')
  const match = new RegExp(`ggml_add_cpu_backend_variant\\(${variant}\\b([^)]*)\\)`).exec(cmake)
  if (match === null) throw new Error(`ggml's CMakeLists.txt has no CPU variant named ${variant}`)
  return match[1]!.trim().split(/\s+/).filter((f) => f !== '').map((f) => `-DGGML_${f}=ON`)
}

/** The build to compare against: `BENCH_NATIVE_BUILD`, else the variant node-llama-cpp loaded. */
export function nativeBuild(addonVariant: string | undefined): NativeBuild {
  if (!existsSync(sourceDir)) run('git', ['clone', '--quiet', bundle, sourceDir], repoRoot)
  const flavour = process.env.BENCH_NATIVE_BUILD ?? addonVariant ?? 'native'
  const cmakeFlags = flavour === 'native' ? ['-DGGML_NATIVE=ON'] : ['-DGGML_NATIVE=OFF', ...variantFlags(flavour)]
  // The -march=native build keeps the folder name earlier runs cached it under.
  const dir = flavour === 'native' ? 'build' : `build-${flavour}`
  return { flavour, cmakeFlags, binDir: join(sourceDir, dir, 'bin') }
}

export type NativeTool = 'llama-bench' | 'llama-server'

/** Path of a tool of `build`. */
export function toolPath(build: NativeBuild, tool: NativeTool): string {
  return join(build.binDir, tool)
}

/**
 * Configures and builds the tools named if they are not cached yet (tens of minutes on 2 busy
 * cores).
 */
export function ensureNativeTools(build: NativeBuild, targets: readonly NativeTool[]): void {
  const missing = targets.filter((t) => !existsSync(toolPath(build, t)))
  if (missing.length === 0) return
  const buildDir = resolve(build.binDir, '..')
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
    run('cmake', [
      // GGML_OPENMP=OFF: node-llama-cpp's prebuilt addon uses ggml's own thread pool, not OpenMP.
      '-B', buildDir, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release', ...build.cmakeFlags, '-DGGML_OPENMP=OFF', '-DLLAMA_CURL=OFF',
      '-DGGML_CUDA=OFF', '-DGGML_VULKAN=OFF', '-DGGML_METAL=OFF', '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF',
    ], sourceDir)
  }
  run('cmake', ['--build', buildDir, '-j2', '--target', ...missing], sourceDir)
}

/** Text-generation speed of native llama.cpp: `llama-bench -p 0 -n <tokens>` (tg test). */
export function llamaBenchDecode(build: NativeBuild, model: string, options: { threads: number; tokens: number; repetitions: number }): number {
  const args = ['-m', model, '-p', '0', '-n', String(options.tokens), '-t', String(options.threads), '-r', String(options.repetitions), '-o', 'json']
  const result = spawnSync(toolPath(build, 'llama-bench'), args, { encoding: 'utf8', maxBuffer: 16 << 20 })
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
