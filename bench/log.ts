/**
 * `npm run bench -- log`: the log's throughput against its speed limit, Ed25519 verification.
 *
 * - raw single-thread verify/s of the node's backend (libsodium), OpenSSL (node:crypto) and
 *   @noble/curves on entry-sized messages, same run, same machine; the speed limit of bulk paths
 *   is the backend's rate × cores
 * - sign + verify + append entries/s through the real path (signAndEncodeEntry on the main thread →
 *   verifier threads → LogStore.append into SQLite), floor 10,000/s, with its ratios to the raw rates
 * - `log verify` (verifyLog) of a 1M-entry log, floor < 60 s. The log is deterministic (fixed keys,
 *   fixed entries, deterministic Ed25519) and generated once into `.cache/bench-log/`; the JSON
 *   says whether this run generated it and how long that took
 * - a new node syncs 100k entries from a peer in ANOTHER process over libp2p on loopback
 *   (/commons/log/1, TCP + noise + yamux), floor < 10 s
 *
 * Sizes can be lowered for a quick run: LOG_BENCH_APPEND, LOG_BENCH_VERIFY, LOG_BENCH_SYNC
 * (the floors are then scaled to the size). LOG_BENCH_CHUNK (entries per signed chunk and append
 * transaction, default 2000) and LOG_BENCH_THREADS (a private verifier pool of that many threads
 * instead of the shared one) and LOG_BENCH_ONLY=append (skip sync and `log verify`) are for
 * exploring the append pipeline. Progress goes to stderr; the result is one JSON
 * object (printed by bench/index.ts).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex, ed25519Backend, keyPairFromSecret, sign, verify, type KeyPair } from '../src/identity/index.js'
import { verifyOpenssl } from '../src/identity/ed25519.js'
import {
  LogStore,
  LOG_PROTOCOL,
  StreamLogPeer,
  chunkVerifierFor,
  cosignCheckpoint,
  createGenesis,
  networkIdOf,
  originOf,
  sharedVerifierPool,
  signAndEncodeEntry,
  syncFrom,
  verifyLog,
  type AppendableEntry,
  type Genesis,
} from '../src/ledger/index.js'
import { createHost } from '../src/p2p/index.js'

const APPEND_N = Number(process.env.LOG_BENCH_APPEND ?? 100_000)
const VERIFY_N = Number(process.env.LOG_BENCH_VERIFY ?? 1_000_000)
const SYNC_N = Number(process.env.LOG_BENCH_SYNC ?? 100_000)
/** LOG_BENCH_ONLY=append: only the raw rates and the append pipeline (for A/B runs of that path). */
const APPEND_ONLY = process.env.LOG_BENCH_ONLY === 'append'
const CACHE = join(process.cwd(), '.cache', 'bench-log')

const witnesses: KeyPair[] = [1, 2, 3, 4].map((i) => keyPairFromSecret(new Uint8Array(32).fill(i)))
const authors: KeyPair[] = [21, 22, 23, 24].map((i) => keyPairFromSecret(new Uint8Array(32).fill(i)))
const genesis: Genesis = createGenesis({
  network: 'bench',
  created: 1_700_000_000_000,
  members: authors.map((k) => bytesToHex(k.publicKey)),
  witnesses: witnesses.map((k) => bytesToHex(k.publicKey)),
  epochMs: 1000,
})
const network = networkIdOf(genesis)

const log = (msg: string): void => {
  process.stderr.write(`[bench log] ${msg}\n`)
}
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000)
const seconds = (ms: number): number => Math.round(ms) / 1000
/** CPU time of this process (all its threads) since `since`, per entry, in µs. */
const cpuMicros = (since: NodeJS.CpuUsage, n: number): number => {
  const used = process.cpuUsage(since)
  return Math.round((used.user + used.system) / n)
}

/** A realistic entry: a ~200-byte note (the body size of a typical vote/proposal). */
function draftEntry(i: number) {
  return { network, kind: 'note' as const, seq: Math.floor(i / authors.length) + 1, time: 1_700_000_000_000 + i, body: { text: `entry ${i} `.padEnd(120, '.') } }
}
const signed = (i: number) => signAndEncodeEntry(draftEntry(i), authors[i % authors.length]!)

function rawRates(): { backend: string; backendVerify: number; opensslVerify: number; nobleVerify: number; backendSign: number; messageBytes: number } {
  const k = authors[0]!
  const msg = new TextEncoder().encode(new TextDecoder().decode(signed(0).bytes).replace(/,"sig":"[0-9a-f]{128}"/, ''))
  const sig = sign(msg, k.secretKey)
  const timeIt = (n: number, fn: () => boolean): number => {
    for (let i = 0; i < Math.min(200, n); i++) fn()
    const t = performance.now()
    for (let i = 0; i < n; i++) if (!fn()) throw new Error('raw check failed')
    return rate(n, performance.now() - t)
  }
  return {
    backend: ed25519Backend,
    backendVerify: timeIt(20_000, () => verify(sig, msg, k.publicKey)),
    opensslVerify: timeIt(10_000, () => verifyOpenssl(sig, msg, k.publicKey)),
    nobleVerify: timeIt(500, () => ed25519.verify(sig, msg, k.publicKey)),
    backendSign: timeIt(20_000, () => sign(msg, k.secretKey).length === 64),
    messageBytes: msg.length,
  }
}

async function signVerifyAppend(n: number): Promise<{ entries: number; entriesPerSec: number; seconds: number; cpuMicrosPerEntry: number; poolStartupMs: number }> {
  const dir = join(CACHE, 'append')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const store = LogStore.open(join(dir, 'commons.db'), { genesis })
  // The process's verifier pool starts once in a node's life: its start-up is reported apart.
  const startup = performance.now()
  await Promise.all(Array.from({ length: availableParallelism() }, () => sharedVerifierPool().verify(network, [{ index: 0, bytes: signed(0).bytes }])))
  const poolStartupMs = Math.round(performance.now() - startup)
  const verifier = chunkVerifierFor(network, n, process.env.LOG_BENCH_THREADS === undefined ? undefined : Number(process.env.LOG_BENCH_THREADS))
  const CHUNK = Number(process.env.LOG_BENCH_CHUNK ?? 2000)
  const started = performance.now()
  const cpu = process.cpuUsage()
  try {
    let pending: Promise<void> = Promise.resolve()
    for (let from = 0; from < n; from += CHUNK) {
      // Authors sign on the main thread while the previous chunks verify on the verifier threads.
      const bytes = Array.from({ length: Math.min(CHUNK, n - from) }, (_, j) => signed(from + j).bytes)
      const verified = verifier.verify(bytes.map((b, j) => ({ index: from + j, bytes: b })))
      const previous = pending
      pending = verified.then(async (r) => {
        await previous
        if (r.error !== undefined) throw new Error(r.error.message)
        const batch: AppendableEntry[] = bytes.map((b, j) => ({ entry: { author: r.authors[j]!, seq: r.seqs[j]!, kind: r.kinds[j]! }, hash: r.hashes[j]!, bytes: b, leaf: r.leaves.subarray(j * 32, j * 32 + 32) }))
        store.append(batch)
      })
      // Bounded pipeline: at most two chunks signed ahead of the appends.
      if (from >= 2 * CHUNK) await previous
    }
    await pending
  } finally {
    await verifier.close()
    store.close()
  }
  const ms = performance.now() - started
  return { entries: n, entriesPerSec: rate(n, ms), seconds: seconds(ms), cpuMicrosPerEntry: cpuMicros(cpu, n), poolStartupMs }
}

interface BuiltLog {
  readonly generated: boolean
  readonly generateSeconds: number | null
  readonly root: string
}

/** Builds the deterministic log of `n` entries in `dir` once (kept across runs in .cache/bench-log/). */
function buildLog(dir: string, n: number, checkpointEvery: number): BuiltLog {
  const done = join(dir, 'DONE.json')
  if (existsSync(done)) return { ...(JSON.parse(readFileSync(done, 'utf8')) as BuiltLog), generated: false }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis))
  const store = LogStore.open(join(dir, 'commons.db'), { genesis })
  const started = performance.now()
  const BATCH = 5000
  for (let from = 0; from < n; from += BATCH) {
    const batch: AppendableEntry[] = []
    for (let i = from; i < Math.min(n, from + BATCH); i++) batch.push(signed(i))
    store.append(batch)
    if (store.size() % checkpointEvery === 0 || store.size() === n) {
      store.addCheckpoint(cosignCheckpoint({ origin: originOf(genesis), size: store.size(), root: store.root(), extensions: [] }, witnesses.slice(0, 3), 1_700_000_000))
    }
    if (from % 100_000 === 0) log(`generating ${dir}: ${store.size()}/${n} (${rate(store.size(), performance.now() - started)}/s)`)
  }
  const built = { generated: true, generateSeconds: seconds(performance.now() - started), root: store.rootHex() }
  store.close()
  writeFileSync(done, JSON.stringify(built))
  return built
}

async function verifyBench(n: number): Promise<Record<string, unknown>> {
  const dir = join(CACHE, `verify-${n}`)
  const built = buildLog(dir, n, 100_000)
  log(`verifying ${n} entries`)
  const started = performance.now()
  const cpu = process.cpuUsage()
  const report = await verifyLog(join(dir, 'commons.db'), genesis, {
    onProgress: (done, total) => {
      if (done % 100_000 < 4096) log(`verify ${done}/${total}`)
    },
  })
  const ms = performance.now() - started
  if (!report.ok || report.root !== built.root) throw new Error(`bench log failed to verify: ${JSON.stringify(report.failure ?? report.root)}`)
  return {
    entries: report.size,
    seconds: seconds(ms),
    entriesPerSec: rate(report.size, ms),
    cpuMicrosPerEntry: cpuMicros(cpu, report.size),
    logGeneratedThisRun: built.generated,
    logGenerateSeconds: built.generateSeconds,
    root: report.root,
  }
}

/** Starts `bench/_log-serve.ts` on the log in `dir`: the peer, in its own process. */
async function startServer(dir: string): Promise<{ peerId: string; addr: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', './src/polyfill.js', '--import', 'tsx', 'bench/_log-serve.ts', dir], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    child.stdin.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`log server exited (${code}) before listening`)))
  })
  lines.close()
  return { ...(JSON.parse(first) as { peerId: string; addr: string }), stop }
}

async function syncBench(n: number): Promise<Record<string, unknown>> {
  const src = join(CACHE, `sync-src-${n}`)
  buildLog(src, n, 10_000)
  const dst = join(CACHE, 'sync-dst')
  rmSync(dst, { recursive: true, force: true })
  mkdirSync(dst, { recursive: true })
  const b = LogStore.open(join(dst, 'commons.db'), { genesis })
  const server = await startServer(src)
  const host = await createHost({ keyPair: witnesses[1]!, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  try {
    // The verifier pool of a running node is already up; the sync itself is what is timed.
    await sharedVerifierPool().verify(network, [])
    log(`syncing ${n} entries over /commons/log/1 from another process`)
    const started = performance.now()
    const cpu = process.cpuUsage()
    const stream = await host.dialProtocol(multiaddr(server.addr), LOG_PROTOCOL)
    const peer = new StreamLogPeer(stream)
    const r = await syncFrom(b, peer)
    await peer.close()
    const ms = performance.now() - started
    const clientCpuMicrosPerEntry = cpuMicros(cpu, n)
    if (r.to !== n || b.size() !== n) throw new Error(`sync stopped at ${r.to} of ${n}`)
    // The synced node's own integrity check (as on its next start) must pass too.
    b.checkIntegrity()
    return { entries: n, seconds: seconds(ms), entriesPerSec: rate(n, ms), clientCpuMicrosPerEntry, checkpoints: r.checkpoints, root: b.rootHex() }
  } finally {
    await host.stop()
    await server.stop()
    b.close()
  }
}

/** Entry point used by bench/index.ts. */
export async function run(): Promise<Record<string, unknown>> {
  mkdirSync(CACHE, { recursive: true })
  const load = loadavg()[0]!
  const raw = rawRates()
  log(`raw verify/s (1 thread): ${raw.backend} ${raw.backendVerify}, openssl ${raw.opensslVerify}, @noble/curves ${raw.nobleVerify}`)
  const cores = availableParallelism()
  const limit = raw.backendVerify * cores
  const append = await signVerifyAppend(APPEND_N)
  log(`sign+verify+append: ${append.entriesPerSec}/s`)
  if (APPEND_ONLY) return { machine: { cores, loadAverage1mAtStart: load }, rawPerSec1Thread: raw, signVerifyAppend: append }
  const sync = await syncBench(SYNC_N)
  log(`sync: ${sync.seconds}s`)
  const verified = await verifyBench(VERIFY_N)
  log(`log verify: ${verified.seconds}s`)
  rmSync(join(CACHE, 'append'), { recursive: true, force: true })
  rmSync(join(CACHE, 'sync-dst'), { recursive: true, force: true })
  const ratio = (x: number, y: number): number => Math.round((x / y) * 100) / 100
  const verifyFloor = (60 * VERIFY_N) / 1_000_000
  const syncFloor = (10 * SYNC_N) / 100_000
  return {
    machine: { cores, cpu: cpus()[0]?.model ?? 'unknown', loadAverage1mAtStart: Math.round(load * 100) / 100 },
    rawPerSec1Thread: { ...raw, speedLimitAllCores: limit },
    signVerifyAppend: {
      ...append,
      floorPerSec: 10_000,
      pass: append.entriesPerSec >= 10_000,
      ratioToNobleVerify1Thread: ratio(append.entriesPerSec, raw.nobleVerify),
      ratioToBackendVerifyAllCores: ratio(append.entriesPerSec, limit),
    },
    logVerify: {
      ...verified,
      floorSeconds: verifyFloor,
      pass: (verified.seconds as number) < verifyFloor,
      ratioToBackendVerifyAllCores: ratio(verified.entriesPerSec as number, limit),
    },
    sync: { ...sync, floorSeconds: syncFloor, pass: (sync.seconds as number) < syncFloor, transport: 'libp2p tcp+noise+yamux, two processes' },
  }
}
