/**
 * `npm run bench -- log`: the log's throughput against its speed limit, Ed25519 verification.
 *
 * - raw verify/s of node:crypto and @noble/curves on entry-sized messages (same run, same machine)
 * - sign + verify + append entries/s through the real path (signEntry → worker-pool verification →
 *   LogStore.append into SQLite), reported as a ratio to both raw verify rates
 * - `log verify` (verifyLog) of a 1M-entry log, generated once into `.cache/bench-log/`
 * - sync of 100k entries between two libp2p hosts on loopback (/commons/log/1)
 *
 * Sizes can be lowered for a quick run: LOG_BENCH_APPEND, LOG_BENCH_VERIFY, LOG_BENCH_SYNC.
 * Progress goes to stderr; the result is one JSON object (printed by bench/index.ts).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { keyPairFromSecret, sign, verify, bytesToHex, type KeyPair } from '../src/identity/index.js'
import {
  LogStore,
  LOG_PROTOCOL,
  StreamLogPeer,
  chunkVerifierFor,
  cosignCheckpoint,
  createGenesis,
  encodeEntry,
  entryHash,
  entrySigningBytes,
  networkIdOf,
  originOf,
  serveLog,
  signEntry,
  syncFrom,
  verifyLog,
  type AppendableEntry,
  type Genesis,
} from '../src/ledger/index.js'
import { createHost } from '../src/p2p/index.js'

const APPEND_N = Number(process.env.LOG_BENCH_APPEND ?? 50_000)
const VERIFY_N = Number(process.env.LOG_BENCH_VERIFY ?? 1_000_000)
const SYNC_N = Number(process.env.LOG_BENCH_SYNC ?? 100_000)
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

/** A realistic entry: a ~200-byte note (the body size of a typical vote/proposal). */
function draftEntry(i: number) {
  return { network, kind: 'note' as const, seq: Math.floor(i / authors.length) + 1, time: 1_700_000_000_000 + i, body: { text: `entry ${i} `.padEnd(120, '.') } }
}

function rawVerifyRates(): { nodeCrypto: number; noble: number; messageBytes: number } {
  const k = authors[0]!
  const msg = entrySigningBytes(signEntry(draftEntry(0), k))
  const sig = sign(msg, k.secretKey)
  const timeIt = (n: number, fn: () => boolean): number => {
    const t = performance.now()
    for (let i = 0; i < n; i++) if (!fn()) throw new Error('verify failed')
    return rate(n, performance.now() - t)
  }
  timeIt(200, () => verify(sig, msg, k.publicKey))
  const nodeCrypto = timeIt(20_000, () => verify(sig, msg, k.publicKey))
  timeIt(20, () => ed25519.verify(sig, msg, k.publicKey))
  const noble = timeIt(1_000, () => ed25519.verify(sig, msg, k.publicKey))
  return { nodeCrypto, noble, messageBytes: msg.length }
}

async function signVerifyAppend(n: number): Promise<{ entries: number; entriesPerSec: number; seconds: number; poolStartupMs: number }> {
  const dir = join(CACHE, 'append')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const store = LogStore.open(join(dir, 'commons.db'), { genesis })
  const verifier = chunkVerifierFor(network, n)
  // Thread start-up (loading the TypeScript verifier in each thread) is a one-off cost of a
  // node's life: report it apart from the steady-state rate.
  const startup = performance.now()
  await verifier.verify([{ index: 0, bytes: encodeEntry(signEntry(draftEntry(0), authors[0]!)) }])
  const poolStartupMs = Math.round(performance.now() - startup)
  const CHUNK = 2000
  const started = performance.now()
  try {
    let pending: Promise<void> = Promise.resolve()
    for (let from = 0; from < n; from += CHUNK) {
      // Authors sign (main thread) while the previous chunk verifies on the worker threads.
      const bytes = Array.from({ length: Math.min(CHUNK, n - from) }, (_, j) => encodeEntry(signEntry(draftEntry(from + j), authors[(from + j) % authors.length]!)))
      const verified = verifier.verify(bytes.map((b, j) => ({ index: from + j, bytes: b })))
      await pending
      pending = verified.then((r) => {
        if (r.error !== undefined) throw new Error(r.error.message)
        const batch: AppendableEntry[] = bytes.map((b, j) => ({ entry: { author: r.authors[j]!, seq: r.seqs[j]!, kind: r.kinds[j]! }, hash: r.hashes[j]!, bytes: b, leaf: r.leaves.slice(j * 32, j * 32 + 32) }))
        store.append(batch)
      })
    }
    await pending
  } finally {
    await verifier.close()
    store.close()
  }
  const ms = performance.now() - started
  return { entries: n, entriesPerSec: rate(n, ms), seconds: Math.round(ms) / 1000, poolStartupMs }
}

/** Builds a log of `n` entries (signing once; cached across runs in .cache/bench-log/). */
function buildLog(dir: string, n: number, checkpointEvery: number): void {
  if (existsSync(join(dir, 'DONE'))) return
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis))
  const store = LogStore.open(join(dir, 'commons.db'), { genesis })
  const started = performance.now()
  const BATCH = 5000
  for (let from = 0; from < n; from += BATCH) {
    const batch: AppendableEntry[] = []
    for (let i = from; i < Math.min(n, from + BATCH); i++) {
      const e = signEntry(draftEntry(i), authors[i % authors.length]!)
      const bytes = encodeEntry(e)
      batch.push({ entry: e, hash: entryHash(bytes), bytes })
    }
    store.append(batch)
    if (store.size() % checkpointEvery === 0 || store.size() === n) {
      store.addCheckpoint(cosignCheckpoint({ origin: originOf(genesis), size: store.size(), root: store.root(), extensions: [] }, witnesses.slice(0, 3), 1_700_000_000))
    }
    if (from % 100_000 === 0) log(`building ${dir}: ${store.size()}/${n} (${rate(store.size(), performance.now() - started)}/s)`)
  }
  store.close()
  writeFileSync(join(dir, 'DONE'), `${n}\n`)
}

async function verifyBench(n: number): Promise<{ entries: number; seconds: number; entriesPerSec: number; ok: boolean }> {
  const dir = join(CACHE, `verify-${n}`)
  buildLog(dir, n, 100_000)
  log(`verifying ${n} entries`)
  const started = performance.now()
  const report = await verifyLog(join(dir, 'commons.db'), genesis, {
    onProgress: (done, total) => {
      if (done % 100_000 < 4096) log(`verify ${done}/${total}`)
    },
  })
  const ms = performance.now() - started
  if (!report.ok) throw new Error(`bench log failed to verify: ${JSON.stringify(report.failure)}`)
  return { entries: report.size, seconds: Math.round(ms) / 1000, entriesPerSec: rate(report.size, ms), ok: report.ok }
}

async function syncBench(n: number): Promise<{ entries: number; seconds: number; entriesPerSec: number }> {
  const src = join(CACHE, `sync-src-${n}`)
  buildLog(src, n, 10_000)
  const dst = join(CACHE, 'sync-dst')
  rmSync(dst, { recursive: true, force: true })
  mkdirSync(dst, { recursive: true })
  const a = LogStore.open(join(src, 'commons.db'), { genesis, verifyOnOpen: false })
  const b = LogStore.open(join(dst, 'commons.db'), { genesis })
  const hostA = await createHost({ keyPair: witnesses[0]!, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  const hostB = await createHost({ keyPair: witnesses[1]!, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  try {
    await hostA.handle(LOG_PROTOCOL, (stream) => serveLog(a, stream))
    log(`syncing ${n} entries over /commons/log/1`)
    const started = performance.now()
    await hostB.dial(hostA.getMultiaddrs()[0]!)
    const stream = await hostB.dialProtocol(hostA.peerId, LOG_PROTOCOL)
    const peer = new StreamLogPeer(stream)
    const r = await syncFrom(b, peer)
    await peer.close()
    const ms = performance.now() - started
    if (r.to !== n || b.rootHex() !== a.rootHex()) throw new Error('sync did not reach the peer root')
    return { entries: n, seconds: Math.round(ms) / 1000, entriesPerSec: rate(n, ms) }
  } finally {
    await hostB.stop()
    await hostA.stop()
    a.close()
    b.close()
  }
}

/** Entry point used by bench/index.ts. */
export async function run(): Promise<Record<string, unknown>> {
  mkdirSync(CACHE, { recursive: true })
  const raw = rawVerifyRates()
  log(`raw verify/s: node:crypto ${raw.nodeCrypto}, @noble/curves ${raw.noble}`)
  const append = await signVerifyAppend(APPEND_N)
  log(`sign+verify+append: ${append.entriesPerSec}/s`)
  const sync = await syncBench(SYNC_N)
  log(`sync: ${sync.seconds}s`)
  const verified = await verifyBench(VERIFY_N)
  log(`log verify: ${verified.seconds}s`)
  // Keep the generated logs for the next run, drop the scratch ones.
  rmSync(join(CACHE, 'append'), { recursive: true, force: true })
  rmSync(join(CACHE, 'sync-dst'), { recursive: true, force: true })
  return {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown' },
    rawVerifyPerSec: { nodeCrypto: raw.nodeCrypto, nobleCurves: raw.noble, messageBytes: raw.messageBytes, threads: 1 },
    signVerifyAppend: {
      ...append,
      target: 10_000,
      ratioToNodeCryptoVerify1Thread: Math.round((append.entriesPerSec / raw.nodeCrypto) * 100) / 100,
      ratioToNobleVerify1Thread: Math.round((append.entriesPerSec / raw.noble) * 100) / 100,
    },
    logVerify: { ...verified, targetSeconds: 60 },
    sync: { ...sync, targetSeconds: 10 },
  }
}
