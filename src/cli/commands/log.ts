import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import cliProgress from 'cli-progress'
import { bytesToHex } from '../../identity/index.js'
import {
  LogStore,
  leafHash,
  loadGenesis,
  networkIdOf,
  parseStoredEntry,
  verifyInclusion,
  verifyLog,
  type Genesis,
  type VerifyReport,
} from '../../ledger/index.js'
import { resolveDataDir } from '../../node/datadir.js'
import { DB_FILE } from '../../store/index.js'
import { CommandFailedError, intFlag } from '../exit.js'

interface CommonOptions {
  dataDir?: string
  json?: boolean
}

function genesisOf(dataDir: string): Genesis {
  const g = loadGenesis(dataDir)
  if (g === undefined) throw new CommandFailedError(`no genesis.json in ${dataDir}: run 'commons init' first`)
  return g
}

function openStore(opts: CommonOptions): LogStore {
  const dataDir = resolveDataDir(opts.dataDir)
  // The CLI reads; `log verify` is the full check, and a running node checks on its own open.
  return LogStore.open(join(dataDir, DB_FILE), { genesis: genesisOf(dataDir), verifyOnOpen: false })
}

const print = (json: boolean | undefined, value: unknown, text: string): void => {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`)
}

/** `commons log status|show N|proof N|verify`: inspect and audit the local copy of the log. */
export function registerLog(program: Command): void {
  const log = program.command('log').description('inspect and audit the local copy of the Commons log')
  const common = (cmd: Command): Command =>
    cmd.option('--data-dir <dir>', 'data directory (default $COMMONS_HOME or ~/.commons)').option('--json', 'print JSON')

  common(log.command('status').description('size, root, last final checkpoint, pending entries')).action((opts: CommonOptions) => {
    const store = openStore(opts)
    try {
      const final = store.latestFinalCheckpoint()
      const status = {
        network: store.genesis.network,
        networkId: store.network,
        size: store.size(),
        root: store.rootHex(),
        finalSize: final?.size ?? 0,
        finalRoot: final ? bytesToHex(final.root) : null,
        checkpoints: store.checkpoints().length,
        pending: store.pending().length,
        forkProofs: store.forkProofs().length,
        // Witnesses whose fork-proof entry is final, with the checkpoint they last count for.
        convicted: [...store.convictions()].map(([witness, c]) => ({ witness, lastEpoch: c.epoch ?? null, lastSize: c.size })),
        witnesses: store.genesis.witnesses.length,
        threshold: store.genesis.threshold,
      }
      print(
        opts.json,
        status,
        [
          `network     ${status.network} (${status.networkId.slice(0, 16)}…)`,
          `entries     ${status.size}`,
          `root        ${status.root}`,
          `final       ${status.finalSize}${status.finalRoot ? ` (${status.finalRoot})` : ''}`,
          `pending     ${status.pending}`,
          `witnesses   ${status.threshold}-of-${status.witnesses}, fork proofs: ${status.forkProofs}, convicted: ${status.convicted.length}`,
          ...status.convicted.map((c) => `  convicted ${c.witness.slice(0, 16)}… (counts up to epoch ${c.lastEpoch ?? '-'}, size ${c.lastSize})`),
        ].join('\n'),
      )
    } finally {
      store.close()
    }
  })

  common(log.command('show').description('print entry N (0-based)').argument('<n>', 'entry index', intFlag('N', 0, Number.MAX_SAFE_INTEGER))).action(
    (n: number, opts: CommonOptions) => {
      const store = openStore(opts)
      try {
        const e = store.entry(n)
        if (e === undefined) throw new CommandFailedError(`no entry ${n}: the log has ${store.size()} entries`)
        const entry = parseStoredEntry(e.bytes)
        print(opts.json, { index: n, hash: e.hash, entry }, `index ${n}\nhash  ${e.hash}\n${JSON.stringify(entry, null, 2)}`)
      } finally {
        store.close()
      }
    },
  )

  common(
    log
      .command('proof')
      .description('inclusion proof of entry N against the last final checkpoint (or the current tree)')
      .argument('<n>', 'entry index', intFlag('N', 0, Number.MAX_SAFE_INTEGER)),
  ).action((n: number, opts: CommonOptions) => {
    const store = openStore(opts)
    try {
      const e = store.entry(n)
      if (e === undefined) throw new CommandFailedError(`no entry ${n}: the log has ${store.size()} entries`)
      const final = store.latestFinalCheckpoint()
      const size = final !== undefined && final.size > n ? final.size : store.size()
      const root = store.treeHash(size)
      const proof = store.inclusionProof(n, size)
      const leaf = leafHash(e.bytes)
      const out = {
        index: n,
        size,
        final: final !== undefined && final.size === size,
        leafHash: bytesToHex(leaf),
        root: bytesToHex(root),
        proof: proof.map(bytesToHex),
        verified: verifyInclusion(leaf, n, size, proof, root),
      }
      print(
        opts.json,
        out,
        [`entry ${n} in tree of ${size}${out.final ? ' (final)' : ' (not yet final)'}`, `leaf  ${out.leafHash}`, `root  ${out.root}`, ...out.proof.map((h, i) => `[${i}]   ${h}`), `verified: ${out.verified}`].join('\n'),
      )
    } finally {
      store.close()
    }
  })

  common(
    log
      .command('verify')
      .description('replay the log from genesis: signatures, schema, seq, tree, checkpoints and cosignatures; exit 1 naming the first bad index')
      .option('--threads <n>', 'verifier threads (default: one per core)', intFlag('--threads', 0, 256)),
  ).action(async (opts: CommonOptions & { threads?: number }) => {
    const dataDir = resolveDataDir(opts.dataDir)
    const genesis = genesisOf(dataDir)
    const path = join(dataDir, DB_FILE)
    if (!existsSync(path)) throw new CommandFailedError(`no log database at ${path}`)
    const started = performance.now()
    const progress = progressReporter()
    let report: VerifyReport
    try {
      report = await verifyLog(path, genesis, { ...(opts.threads === undefined ? {} : { threads: opts.threads }), onProgress: progress.update })
    } finally {
      progress.stop()
    }
    const seconds = Math.round((performance.now() - started) / 10) / 100
    const out = { ...report, network: networkIdOf(genesis), seconds }
    if (report.failure === undefined) {
      print(opts.json, out, `ok: ${report.size} entries, ${report.checkpoints} checkpoints, final up to ${report.finalSize}, root ${report.root} (${seconds}s)`)
      return
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`)
    const f = report.failure
    throw new CommandFailedError(`${f.kind} ${f.index}: ${f.code}: ${f.message}`)
  })
}

/** A progress bar on a TTY, JSON lines on stderr otherwise (at most one per second). */
function progressReporter(): { update: (done: number, total: number) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    let bar: cliProgress.SingleBar | undefined
    return {
      update: (done, total) => {
        if (bar === undefined) {
          bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'verify [{bar}] {value}/{total} entries {percentage}% eta {eta}s' }, cliProgress.Presets.shades_classic)
          bar.start(total, 0)
        }
        bar.update(done)
      },
      stop: () => bar?.stop(),
    }
  }
  let last = 0
  return {
    update: (done, total) => {
      const now = Date.now()
      if (now - last < 1000 && done < total) return
      last = now
      process.stderr.write(`${JSON.stringify({ event: 'log.verify.progress', checked: done, total })}\n`)
    },
    stop: () => {},
  }
}
