import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { GovernanceAccess, SubmittedEntry } from '../api/routes/gov.js'
import { CommonsError } from '../errors.js'
import {
  applyCheckpointTime,
  applyEntry,
  initialState,
  restoreState,
  snapshotState,
  stateRoot,
  type GovKind,
  type GovState,
} from '../governance/index.js'
import { bytesToHex, type KeyPair } from '../identity/index.js'
import {
  encodeEntry,
  epochOf,
  parseSignedCheckpoint,
  parseStoredEntry,
  signEntry,
  type Genesis,
  type Kind,
  type BodyOf,
  type LogStore,
  type StoredCheckpoint,
} from '../ledger/index.js'
import type { NodeComponent } from './lifecycle.js'

/**
 * The governance service of a node: the I/O around the pure reducer (`src/governance`).
 *
 * - Follows the final log: for every final checkpoint (in size order) past what it has applied, it
 *   applies the entries it newly covers, each with that checkpoint's time, then moves the clock to
 *   it. A checkpoint's time is the END of the epoch it closes (genesis.created + (epoch + 1) ×
 *   epochMs, read from its signed `epoch <n>` line): a value every node reads identically from the
 *   checkpoint itself, unlike cosignature timestamps, of which nodes may hold different subsets.
 *   A final checkpoint without an epoch line does not move the clock (its entries take the time of
 *   the one before).
 * - Writes: signs an entry with the node's key (next seq after the log's and its own last) and
 *   hands the canonical bytes to `submit` (the witness service: pending until a final checkpoint).
 * - Snapshots the state to `<dataDir>/governance-snapshot.json` (every `snapshotEvery` entries and
 *   on stop) with the log root at its size; on start it resumes from the snapshot only if that root
 *   still matches the stored log, else it replays from genesis.
 */

export const SNAPSHOT_FILE = 'governance-snapshot.json'
const REPLAY_PAGE = 4096

export interface GovernanceServiceOptions {
  readonly store: LogStore
  readonly genesis: Genesis
  readonly keyPair: KeyPair
  /** Submits canonical entry bytes to the log (e.g. `WitnessService.submit`); returns the entry hash. */
  readonly submit: (bytes: Uint8Array) => string
  /** Where the snapshot lives; no snapshots when absent. */
  readonly dataDir?: string
  readonly logger?: Logger
  /** How often to look for new final checkpoints (ms, default 500). `sync()` can also be called directly. */
  readonly pollMs?: number
  /** Snapshot after this many newly applied entries (default 10,000). */
  readonly snapshotEvery?: number
  /** Entries read from the store at a time while replaying (default 4096). */
  readonly replayPage?: number
  /** Author-claimed time of new entries (default `Date.now`; governance never trusts it). */
  readonly now?: () => number
}

/** The governance service cannot sign or submit an entry. */
export class GovernanceSubmitError extends CommonsError {
  constructor(message: string, cause?: unknown) {
    super('governance_submit_failed', message, { status: 400, cause })
  }
}

interface SnapshotFile {
  /** Root hash (hex) of the log tree at the snapshot's size. */
  readonly logRoot: string
  readonly snapshot: string
}

/** Time of a final checkpoint for governance: the end of the epoch it closes, or undefined. */
export function checkpointTime(genesis: Genesis, cp: StoredCheckpoint): number | undefined {
  const epoch = cp.epoch ?? epochOf(parseSignedCheckpoint(cp.note).checkpoint)
  return epoch === undefined ? undefined : genesis.created + (epoch + 1) * genesis.epochMs
}

export class GovernanceService implements NodeComponent, GovernanceAccess {
  readonly name = 'governance'
  readonly nodeId: string
  readonly #options: GovernanceServiceOptions
  #state: GovState
  #lastTime: number
  #lastSeq = 0
  #sinceSnapshot = 0
  #timer: NodeJS.Timeout | undefined
  /** Root of the state at (lastIndex, time), computed on demand and kept until the state moves. */
  #root: { lastIndex: number; time: number; root: string } | undefined

  constructor(options: GovernanceServiceOptions) {
    this.#options = options
    this.nodeId = bytesToHex(options.keyPair.publicKey)
    this.#state = initialState(options.genesis)
    this.#lastTime = this.#state.time
  }

  async start(): Promise<void> {
    this.#resume()
    this.sync()
    const pollMs = this.#options.pollMs ?? 500
    this.#timer = setInterval(() => {
      try {
        this.sync()
      } catch (err) {
        this.#options.logger?.error({ err }, 'governance sync failed')
      }
    }, pollMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#saveSnapshot()
  }

  /** The current state (read-only by convention: the service owns it). */
  state(): GovState {
    return this.#state
  }

  stateRoot(): string {
    const s = this.#state
    if (this.#root === undefined || this.#root.lastIndex !== s.lastIndex || this.#root.time !== s.time) {
      this.#root = { lastIndex: s.lastIndex, time: s.time, root: stateRoot(s) }
    }
    return this.#root.root
  }

  /** Applies the entries covered by final checkpoints not yet applied. Returns how many it applied. */
  sync(): number {
    const { store, genesis } = this.#options
    let applied = 0
    const latest = store.latestFinalCheckpoint()
    if (latest === undefined) return 0
    if (latest.size > this.#state.lastIndex + 1) {
      for (const cp of store.checkpoints()) {
        if (!cp.final || cp.size <= this.#state.lastIndex + 1) continue
        this.#lastTime = Math.max(this.#lastTime, checkpointTime(genesis, cp) ?? this.#lastTime)
        // In pages, so a replay from genesis never holds the whole log in memory.
        while (this.#state.lastIndex + 1 < cp.size) {
          const from = this.#state.lastIndex + 1
          const page = store.entries(from, Math.min(cp.size, from + (this.#options.replayPage ?? REPLAY_PAGE)))
          if (page.length === 0) throw new CommonsError('governance_log_gap', `log entries ${from}… missing below final checkpoint ${cp.size}`)
          for (const stored of page) {
            applyEntry(this.#state, { entry: parseStoredEntry(stored.bytes), index: stored.index, time: this.#lastTime })
            // A replay from genesis of a long log takes seconds: say how far it got (JSON lines).
            if (++applied % 100_000 === 0) this.#options.logger?.info({ applied, index: stored.index, size: latest.size }, 'governance replay')
          }
        }
      }
    }
    // An epoch that finalized no entry still moves the clock (deadlines pass, decisions execute).
    this.#lastTime = Math.max(this.#lastTime, checkpointTime(genesis, latest) ?? this.#lastTime)
    applyCheckpointTime(this.#state, this.#lastTime)
    this.#sinceSnapshot += applied
    if (this.#sinceSnapshot >= (this.#options.snapshotEvery ?? 10_000)) this.#saveSnapshot()
    return applied
  }

  /** Signs `body` as a `kind` entry with the node's key and submits it; pending until final. */
  async submit(kind: GovKind, body: unknown): Promise<SubmittedEntry> {
    const { store, keyPair } = this.#options
    // nextSeq counts pending entries too: the witness signs fork-proof entries with this key.
    const seq = Math.max(store.nextSeq(this.nodeId), this.#lastSeq + 1)
    let bytes: Uint8Array
    try {
      const entry = signEntry({ network: store.network, kind: kind as Kind, seq, time: (this.#options.now ?? Date.now)(), body: body as BodyOf<Kind> }, keyPair)
      bytes = encodeEntry(entry)
    } catch (err) {
      throw new GovernanceSubmitError(`cannot sign the ${kind} entry: ${(err as Error).message}`, err)
    }
    const hash = this.#options.submit(bytes)
    this.#lastSeq = seq
    return { hash, kind, author: this.nodeId, seq }
  }

  #snapshotPath(): string | undefined {
    return this.#options.dataDir === undefined ? undefined : join(this.#options.dataDir, SNAPSHOT_FILE)
  }

  #resume(): void {
    const path = this.#snapshotPath()
    if (path === undefined || !existsSync(path)) return
    const { store, logger } = this.#options
    try {
      const file = JSON.parse(readFileSync(path, 'utf8')) as SnapshotFile
      const state = restoreState(file.snapshot, store.network)
      const size = state.lastIndex + 1
      if (size > store.size() || bytesToHex(store.treeHash(size)) !== file.logRoot) {
        logger?.warn({ size }, 'governance snapshot does not match the stored log; replaying from genesis')
        return
      }
      this.#state = state
      this.#lastTime = state.time
      logger?.info({ size }, 'governance resumed from snapshot')
    } catch (err) {
      logger?.warn({ err }, 'governance snapshot unreadable; replaying from genesis')
    }
  }

  #saveSnapshot(): void {
    const path = this.#snapshotPath()
    if (path === undefined) return
    const size = this.#state.lastIndex + 1
    if (size === 0) return
    const file: SnapshotFile = { logRoot: bytesToHex(this.#options.store.treeHash(size)), snapshot: snapshotState(this.#state) }
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(file), { mode: 0o644 })
    const fd = openSync(tmp, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
    this.#sinceSnapshot = 0
  }
}
