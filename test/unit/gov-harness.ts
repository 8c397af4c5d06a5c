/**
 * Test harness for governance: a tiny single-process "network" that signs real Ed25519 entries
 * with fixed keys, runs them through the ledger's own validation (`decodeEntry`: canonical form,
 * envelope, kind and body schema, network, signature) plus (author, seq) uniqueness, stamps the
 * accepted ones with a final checkpoint time and feeds them to the reducer.
 */
import { bytesToHex, keyPairFromSecret, sha256, sha256Hex, sign, type KeyPair } from '../../src/identity/index.js'
import { CommonsError } from '../../src/errors.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  LogStore,
  cosignCheckpoint,
  createGenesis,
  decodeEntry,
  encodeEntry,
  entrySigningBytes,
  networkIdOf,
  originOf,
  signEntry,
  type DecodedEntry,
  type Entry,
  type Genesis,
} from '../../src/ledger/index.js'
import { GovernanceService } from '../../src/node/governance.js'
import { applyEntry, initialState, type FinalEntry, type GovState, type LogEntry } from '../../src/governance/index.js'

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
export const GENESIS_TIME = 1_700_000_000_000

/** Deterministic key number `i` of a named family. */
export function testKey(family: string, i: number): KeyPair {
  return keyPairFromSecret(sha256(`${family}-${i}`))
}

export function idOf(key: KeyPair): string {
  return bytesToHex(key.publicKey)
}

export interface HarnessOptions {
  members?: number
  params?: Record<string, number>
  epochMs?: number
  models?: Array<Record<string, unknown>>
}

/** Test params: short periods so tests read in hours and days. */
export const TEST_PARAMS = {
  discussionDelayMs: HOUR,
  votingPeriodMs: DAY,
  timelockMs: 6 * HOUR,
  admissionPeriodMs: 7 * DAY,
  vouchPenaltyMs: 30 * DAY,
}

export class GovHarness {
  readonly genesis: Genesis
  readonly network: string
  readonly members: KeyPair[]
  state: GovState
  /** Next log index. */
  index = 0
  /** Time of the next final checkpoint. */
  time = GENESIS_TIME + 1000
  private readonly usedSeqs = new Set<string>()
  private readonly nextSeq = new Map<string, number>()

  constructor(options: HarnessOptions = {}) {
    this.members = Array.from({ length: options.members ?? 5 }, (_, i) => testKey('member', i))
    this.genesis = createGenesis({
      network: 'gov-test',
      created: GENESIS_TIME,
      members: this.members.map(idOf),
      witnesses: [idOf(testKey('witness', 0))],
      threshold: 1,
      epochMs: options.epochMs ?? HOUR,
      params: JSON.parse(JSON.stringify({ ...TEST_PARAMS, ...options.params, models: options.models })) as Record<string, never>,
    })
    this.network = networkIdOf(this.genesis)
    this.state = initialState(this.genesis)
  }

  /** A signed entry by `key` with its next seq (or an explicit one). Bodies are not validated here. */
  entry(key: KeyPair, kind: string, body: unknown, seq?: number): LogEntry {
    const author = idOf(key)
    const s = seq ?? (this.nextSeq.get(author) ?? 0) + 1
    this.nextSeq.set(author, Math.max(s, this.nextSeq.get(author) ?? 0))
    const unsigned = { v: 1 as const, network: this.network, kind, author, seq: s, time: this.time, body }
    return { ...unsigned, sig: bytesToHex(sign(entrySigningBytes(unsigned), key.secretKey)) }
  }

  /**
   * What the ledger does before an entry may enter the log: `decodeEntry` (signature, network,
   * schema) and (author, seq) uniqueness. Returns the error code, or null when accepted.
   */
  ledgerCheck(entry: LogEntry): string | null {
    try {
      decodeEntry(encodeEntry(entry as Entry), this.network)
    } catch (err) {
      if (err instanceof CommonsError) return err.code
      return 'forged_signature' // e.g. a sig that is not hex at all
    }
    if (this.usedSeqs.has(`${entry.author}/${entry.seq}`)) return 'replayed_seq'
    return null
  }

  /** Appends through the ledger check and, when accepted, finalizes at the current time and applies. */
  submit(entry: LogEntry): { accepted: boolean; reason: string | null; index: number | null } {
    const reason = this.ledgerCheck(entry)
    if (reason !== null) return { accepted: false, reason, index: null }
    this.usedSeqs.add(`${entry.author}/${entry.seq}`)
    const index = this.final(entry)
    return { accepted: true, reason: null, index }
  }

  /** Applies an entry as final WITHOUT the ledger's checks (the reducer's own defences). */
  final(entry: LogEntry): number {
    const fe: FinalEntry = { entry, index: this.index++, time: this.time }
    applyEntry(this.state, fe)
    return fe.index
  }

  /** Signs and submits; returns the log index. Throws if the ledger refused it. */
  act(key: KeyPair, kind: string, body: unknown): number {
    const r = this.submit(this.entry(key, kind, body))
    if (!r.accepted) throw new Error(`ledger refused: ${r.reason}`)
    return r.index!
  }

  /** The rejection recorded for a log index, if any. */
  rejectionOf(index: number): string | null {
    return this.state.rejections.find((r) => r.index === index)?.reason ?? null
  }

  advance(ms: number): void {
    this.time += ms
  }

  /** A final checkpoint with no governance entry: only the clock moves. */
  tick(ms = 0): void {
    this.time += ms
    applyEntry(this.state, { entry: this.entry(testKey('noise', 0), 'note', { text: 'tick' }), index: this.index++, time: this.time })
  }

  propose(key: KeyPair, action: Record<string, unknown>, title = 'a proposal'): number {
    return this.act(key, 'propose', { title, action })
  }

  vote(key: KeyPair, proposal: number, choice: 'yes' | 'no' | 'abstain'): number {
    return this.act(key, 'vote', { proposal, choice })
  }
}

/** A complete manifest (the models layer's schema) of a made-up model number `i`. */
export function modelManifest(i: number) {
  return {
    schemaVersion: 1,
    name: `model-${i}`,
    version: '1.0.0',
    license: 'Apache-2.0',
    architecture: {
      name: 'llama',
      hyperparameters: { contextLength: 256, embeddingLength: 64, blockCount: 2, feedForwardLength: 128, headCount: 4, headCountKv: 4, ropeFreqBase: 10000, rmsNormEpsilon: 1e-5, vocabSize: 300 },
      parameters: 100_000,
    },
    quantization: 'Q8_0',
    tokenizer: { model: 'gpt2', pre: 'gpt-2', vocabSize: 300, merges: 40 },
    file: { name: `model-${i}.gguf`, sha256: sha256Hex(`model-file-${i}`), size: 123_456 },
    provenance: { kind: 'synthetic', generator: `test ${i}`, seed: i },
  }
}

const witness = testKey('witness', 0)
/** Genesis members of `serviceSetup`; the first one is the node. */
export const serviceMembers = [0, 1, 2].map((i) => testKey('member', i))
const members = serviceMembers
const node = members[0]!

/**
 * Collects submitted entries; `endEpoch(e)` appends them to the log and cosigns an `epoch e`
 * checkpoint. An epoch with nothing pending logs a `note` (a busy network always has entries):
 * the log store keeps one checkpoint per size, so an empty epoch would replace the previous
 * checkpoint's epoch line, and with it the time its entries were final (see the report).
 */
export class FakeWitness {
  readonly pending: DecodedEntry[] = []
  #noteSeq = 0
  constructor(private readonly store: LogStore) {}
  readonly submit = (bytes: Uint8Array): string => {
    const d = decodeEntry(bytes, this.store.network)
    this.pending.push(d)
    return d.hash
  }
  endEpoch(epoch: number): void {
    if (this.pending.length === 0) {
      const note = signEntry({ network: this.store.network, kind: 'note', seq: ++this.#noteSeq, time: 0, body: { text: `epoch ${epoch}` } }, witness)
      this.submit(encodeEntry(note))
    }
    this.store.append(this.pending.splice(0))
    const note = cosignCheckpoint(
      { origin: originOf(this.store.genesis), size: this.store.size(), root: this.store.root(), extensions: [`epoch ${epoch}`] },
      [witness],
      Math.floor(GENESIS_TIME / 1000) + epoch,
    )
    this.store.addCheckpoint(note)
  }
}

/** A real SQLite log store in a temp dir, a FakeWitness, and a GovernanceService for member 0. */
export function serviceSetup(): { dir: string; genesis: Genesis; store: LogStore; w: FakeWitness; service: GovernanceService; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gov-service-'))
  const genesis = createGenesis({
    network: 'gov-service',
    created: GENESIS_TIME,
    members: members.map(idOf),
    witnesses: [idOf(witness)],
    threshold: 1,
    epochMs: HOUR,
    params: { ...TEST_PARAMS },
  })
  const store = LogStore.open(join(dir, 'commons.db'), { genesis })
  const w = new FakeWitness(store)
  const service = new GovernanceService({ store, genesis, keyPair: node, submit: w.submit, dataDir: dir, pollMs: 60_000 })
  return { dir, genesis, store, w, service, cleanup: () => { store.close(); rmSync(dir, { recursive: true, force: true }) } }
}

