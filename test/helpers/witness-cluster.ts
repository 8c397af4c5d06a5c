/**
 * Spawns witness processes (test/helpers/witness-process.ts) on 127.0.0.1 for the multi-process
 * finality tests, and reads their JSON-lines events. Each witness has a fixed test key
 * (`witnessKeys`), its own temp data dir, and bootstraps to every witness already running.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bytesToHex, type KeyPair } from '../../src/identity/index.js'
import { createGenesis, networkIdOf, type Genesis } from '../../src/ledger/genesis.js'
import { encodeEntry, entryHash, signEntry } from '../../src/ledger/entry.js'
import { peerIdOf } from '../../src/p2p/index.js'
import { witnessKeys } from './witness-sim.js'

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const SCRIPT = join(REPO_ROOT, 'test', 'helpers', 'witness-process.ts')

/** One JSON event a witness printed. */
export type WitnessLine = { readonly event: string } & Record<string, unknown>

export class WitnessProcess {
  readonly lines: WitnessLine[] = []
  stderr = ''
  private waiters: Array<() => void> = []
  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    let buffer = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        try {
          this.lines.push(JSON.parse(line) as WitnessLine)
        } catch {
          // not ours (a library printing to stdout)
        }
      }
      for (const wake of this.waiters.splice(0)) wake()
    })
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)))
    child.once('exit', () => {
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves with the first line matching `predicate` (already printed or to come); rejects after `timeoutMs`. */
  async waitFor(predicate: (line: WitnessLine) => boolean, timeoutMs: number, what = 'event'): Promise<WitnessLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.lines.find(predicate)
      if (found !== undefined) return found
      if (!this.alive) throw new Error(`witness ${this.index} exited while waiting for ${what}: ${this.stderr}`)
      const left = deadline - Date.now()
      if (left <= 0) {
        // The witness's last events (heights, rounds, decisions) say where it got stuck.
        const recent = this.lines.slice(-8).map((l) => JSON.stringify(l).slice(0, 300)).join('\n  ')
        throw new Error(`witness ${this.index}: no ${what} within ${timeoutMs} ms; last events:\n  ${recent}\nstderr: ${this.stderr.slice(-1000)}`)
      }
      await new Promise<void>((wake) => {
        const t = setTimeout(wake, Math.min(left, 1000))
        this.waiters.push(() => {
          clearTimeout(t)
          wake()
        })
      })
    }
  }

  /** Hashes of entries this witness reported in final decisions. */
  finalEntries(): Set<string> {
    return new Set(this.lines.filter((l) => l.event === 'decided' && l.final === true).flatMap((l) => l.entries as string[]))
  }

  submit(bytes: Uint8Array): void {
    this.child.stdin!.write(`${JSON.stringify({ submit: Buffer.from(bytes).toString('base64') })}\n`)
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()))
    this.child.kill(signal)
    await exited
  }
}

export interface ClusterOptions {
  readonly n?: number
  readonly epochMs?: number
  /** Flags for one witness, e.g. `['--test-only-byzantine', 'equivocate']`. */
  readonly extraArgs?: Readonly<Record<number, readonly string[]>>
}

export class WitnessCluster {
  readonly keys: KeyPair[]
  readonly witnesses: string[]
  readonly genesis: Genesis
  readonly network: string
  readonly procs: (WitnessProcess | null)[]
  private readonly root: string
  private readonly genesisPath: string
  private readonly seqs = new Map<string, number>()
  /** Extra flags per witness index, read at each `start` (tests may set them after building entries). */
  readonly extraArgs: Record<number, readonly string[]>

  constructor(private readonly options: ClusterOptions = {}) {
    const n = options.n ?? 4
    this.keys = witnessKeys(n)
    this.witnesses = this.keys.map((k) => bytesToHex(k.publicKey))
    this.root = mkdtempSync(join(tmpdir(), 'commons-witness-'))
    this.genesis = createGenesis({
      network: 'witness-e2e',
      created: Date.now(),
      members: [],
      witnesses: this.witnesses,
      epochMs: options.epochMs ?? 2000,
    })
    this.network = networkIdOf(this.genesis)
    this.genesisPath = join(this.root, 'genesis.json')
    writeFileSync(this.genesisPath, JSON.stringify(this.genesis))
    this.procs = Array.from({ length: n }, () => null)
    this.extraArgs = { ...(options.extraArgs ?? {}) }
  }

  /** The SQLite log of witness `i` (open it read-only while the witness runs). */
  logPath(i: number): string {
    return join(this.root, `w${i}`, 'commons.db')
  }

  /** Starts witness `i` (again, with the same data dir, key and port, after a kill). */
  async start(i: number): Promise<WitnessProcess> {
    const ports = await this.allocatePorts()
    const dataDir = join(this.root, `w${i}`)
    // Every other witness, running or not: the bootstrap dialer keeps re-dialing until it connects.
    const bootstrap = this.witnesses.flatMap((_, j) => (j === i ? [] : [`/ip4/127.0.0.1/tcp/${ports[j]}/p2p/${peerIdOf(this.keys[j]!.publicKey).toString()}`]))
    mkdirSync(dataDir, { recursive: true })
    const child = spawn(
      process.execPath,
      [
        '--import', './src/polyfill.js', '--import', 'tsx', SCRIPT,
        '--data-dir', dataDir,
        '--genesis', this.genesisPath,
        '--secret', bytesToHex(this.keys[i]!.secretKey),
        '--port', String(ports[i]),
        '--bootstrap', bootstrap.join(','),
        ...(this.extraArgs[i] ?? []),
      ],
      { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    )
    const proc = new WitnessProcess(i, child)
    this.procs[i] = proc
    await proc.waitFor((l) => l.event === 'ready', 120_000, 'ready')
    return proc
  }

  /** Starts all witnesses at once (each process compiles TypeScript: in parallel it is much faster). */
  async startAll(): Promise<void> {
    await Promise.all(this.procs.map((_, i) => this.start(i)))
  }

  private ports: Promise<number[]> | undefined

  /** One fixed free port per witness, so restarted witnesses come back where their peers dial. */
  private allocatePorts(): Promise<number[]> {
    this.ports ??= Promise.all(
      this.witnesses.map(
        () =>
          new Promise<number>((resolvePort, reject) => {
            const server = createServer()
            server.once('error', reject)
            server.listen(0, '127.0.0.1', () => {
              const port = (server.address() as AddressInfo).port
              server.close(() => resolvePort(port))
            })
          }),
      ),
    )
    return this.ports
  }

  /** A signed `note` entry by test author `author` (canonical bytes and hash). */
  entry(author: KeyPair, text: string): { bytes: Uint8Array; hash: string } {
    const id = bytesToHex(author.publicKey)
    const seq = (this.seqs.get(id) ?? 0) + 1
    this.seqs.set(id, seq)
    const bytes = encodeEntry(signEntry({ network: this.network, kind: 'note', seq, time: Date.now(), body: { text } }, author))
    return { bytes, hash: entryHash(bytes) }
  }

  live(): WitnessProcess[] {
    return this.procs.filter((p): p is WitnessProcess => p !== null && p.alive)
  }

  async stop(): Promise<void> {
    await Promise.all(this.live().map((p) => p.kill('SIGKILL')))
    rmSync(this.root, { recursive: true, force: true })
  }
}
