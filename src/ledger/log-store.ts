/**
 * The node's copy of the log in SQLite: entries (index, hash, author, seq, canonical bytes), the
 * stored Merkle tree (tlog layout, `tree.ts`), checkpoints with their cosignatures, pending
 * entries (valid, not yet final) and fork proofs.
 *
 * Checkpoints: `log_checkpoints` keeps, per tree size, the FIRST final checkpoint of that size —
 * the one whose epoch made the entries below it final. It is never replaced (only its cosignature
 * set may grow): governance gives each entry the time of that epoch, so every node must hold the
 * same one. Later checkpoints of the same size (epochs with no new entry) only move the latest
 * decided checkpoint, kept apart in `log_meta` (`latestFinalCheckpoint`): the governance clock and
 * a restarting witness's next height come from it.
 *
 * Writes are transactions on a WAL database with synchronous=FULL (`store/db.ts`): when
 * `append` returns, the batch is on disk. On open the stored tree is recomputed from the stored
 * entry bytes and checked against the last final checkpoint; a mismatch refuses to start with
 * `LogCorruptError` naming the first bad index.
 *
 * Entries handed to `append` must already be validated (`decodeEntry`): this class enforces the
 * log-state rules (no replayed (author, seq), no duplicate entry) and the tree, not signatures.
 */
import { bytesEqual, bytesToHex, canonicalJson, sha256Hex } from '../identity/index.js'
import { migrate, openDatabase, type Db, type Migration } from '../store/db.js'
import {
  epochOf,
  formatSignedNote,
  parseSignedCheckpoint,
  verifyCosignatures,
  type Checkpoint,
  type NoteSignature,
} from './checkpoint.js'
import { parseStoredEntry, type DecodedEntry, type Entry } from './entry.js'
import { BadCheckpointError, BadProofError, LogCorruptError, ReplayedSeqError, WrongNetworkError } from './errors.js'
import { convictedBy, countsAt, type CheckpointPlace, type Conviction, type ConvictionContext, type Convictions } from './convictions.js'
import { verifyForkProof, type ForkProof } from './fork-proof.js'
import { networkIdOf, originOf, type Genesis } from './genesis.js'
import { leafHashNode, nodeHashNode } from './hash-node.js'
import type { Hash } from './merkle.js'
import {
  TreeAppender,
  consistencyProofFromStore,
  inclusionProofFromStore,
  storedHashCount,
  treeHashFromStore,
  type HashReader,
} from './tree.js'

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'log tables',
    up: (db) =>
      db.exec(`
        CREATE TABLE log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE log_entries (
          idx INTEGER PRIMARY KEY,
          hash BLOB NOT NULL UNIQUE,
          author TEXT NOT NULL,
          seq INTEGER NOT NULL,
          kind TEXT NOT NULL,
          data BLOB NOT NULL,
          UNIQUE (author, seq)
        );
        CREATE TABLE log_tree (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
        CREATE TABLE log_checkpoints (
          size INTEGER PRIMARY KEY,
          root BLOB NOT NULL,
          epoch INTEGER,
          final INTEGER NOT NULL,
          note TEXT NOT NULL
        );
        CREATE TABLE log_pending (
          hash BLOB PRIMARY KEY,
          author TEXT NOT NULL,
          seq INTEGER NOT NULL,
          data BLOB NOT NULL,
          received_at INTEGER NOT NULL
        );
        CREATE TABLE log_fork_proofs (
          id TEXT PRIMARY KEY,
          witness TEXT NOT NULL,
          proof TEXT NOT NULL,
          found_at INTEGER NOT NULL
        );
      `),
  },
  {
    version: 2,
    name: 'fork-proof entries index',
    // Partial: only `fork-proof` rows (rare) are indexed, so appends of other kinds pay nothing.
    up: (db) => db.exec("CREATE INDEX log_entries_fork_proofs ON log_entries (idx) WHERE kind = 'fork-proof'"),
  },
  {
    version: 3,
    name: 'one pending entry per (author, seq)',
    // Earlier versions kept every twin: the one with the lowest hash stays (see addPending).
    up: (db) =>
      db.exec(`
        DELETE FROM log_pending AS p
          WHERE EXISTS (SELECT 1 FROM log_pending AS q WHERE q.author = p.author AND q.seq = p.seq AND q.hash < p.hash);
        CREATE UNIQUE INDEX log_pending_author_seq ON log_pending (author, seq);
      `),
  },
]

/** `log_meta` key of the latest final checkpoint (by epoch; may repeat the size of an earlier one). */
const LATEST_CHECKPOINT_KEY = 'latest_checkpoint'

/** An entry as stored: its index, hex hash and canonical bytes. */
export interface StoredEntry {
  readonly index: number
  readonly hash: string
  readonly bytes: Uint8Array
}

/** A stored checkpoint. */
export interface StoredCheckpoint {
  readonly size: number
  readonly root: Hash
  readonly epoch: number | undefined
  readonly final: boolean
  /** The signed note (C2SP) with the valid cosignatures we hold. */
  readonly note: string
}

/** What `append` needs of an entry already validated (a `DecodedEntry` is one). */
export interface AppendableEntry {
  readonly entry: Pick<Entry, 'author' | 'seq' | 'kind'>
  /** Hex SHA-256 of `bytes`. */
  readonly hash: string
  /** Canonical entry bytes (the Merkle leaf data). */
  readonly bytes: Uint8Array
  /** `leafHash(bytes)` if the caller already computed it (bulk paths hash in worker threads). */
  readonly leaf?: Hash
}

/** What `append` did. */
export interface AppendResult {
  readonly firstIndex: number
  readonly size: number
  readonly root: Hash
}

/** Options of {@link LogStore.open}. */
export interface LogStoreOptions {
  readonly genesis: Genesis
  /** Recompute the stored tree on open and check it against the last final checkpoint (default true). */
  readonly verifyOnOpen?: boolean
  /** Open read-only (e.g. `commons log` while a node runs). */
  readonly readonly?: boolean
}

/** Witness set and threshold a checkpoint is judged by (genesis, later governance). */
export interface WitnessPolicy {
  /** Witnesses whose signatures count now (those convicted in the log left out). */
  readonly witnesses: readonly string[]
  readonly threshold: number
  /** Witnesses convicted by a final `fork-proof` entry, with the checkpoint they last count for (`convictions.ts`). */
  readonly convictions?: Convictions
}

/**
 * Witnesses whose cosignatures count for the checkpoint at `cp`: the policy's, plus a convicted
 * witness for checkpoints up to the one that made its fork-proof entry final.
 */
export function countingWitnesses(policy: WitnessPolicy, cp: CheckpointPlace): readonly string[] {
  const convictions = policy.convictions
  if (convictions === undefined || convictions.size === 0) return policy.witnesses
  const still = [...convictions.keys()].filter((w) => countsAt(convictions, w, cp))
  return still.length === 0 ? policy.witnesses : [...policy.witnesses, ...still]
}

/** The genesis witnesses and threshold, with `convictions` applied. */
export function witnessPolicyOf(genesis: Genesis, convictions: Convictions): WitnessPolicy {
  return { witnesses: genesis.witnesses.filter((w) => !convictions.has(w)), threshold: genesis.threshold, convictions }
}

interface EntryRow {
  idx: number
  hash: Buffer
  data: Buffer
}

/** The node's log: entries, stored tree, checkpoints, pending entries, fork proofs. */
export class LogStore implements HashReader {
  readonly db: Db
  readonly genesis: Genesis
  /** Hex network id (genesis hash). */
  readonly network: string
  /** Checkpoint origin line. */
  readonly origin: string
  /** What this log's `fork-proof` entries are judged against (origin, network, genesis witnesses and threshold). */
  readonly convictionContext: ConvictionContext
  #appender: TreeAppender
  readonly #stmt: ReturnType<LogStore['prepare']>

  private constructor(db: Db, genesis: Genesis) {
    this.db = db
    this.genesis = genesis
    this.network = networkIdOf(genesis)
    this.origin = originOf(genesis)
    this.convictionContext = { origin: this.origin, network: this.network, witnesses: genesis.witnesses, threshold: genesis.threshold }
    this.#stmt = this.prepare()
    const size = this.#countEntries()
    const hashes = (this.db.prepare('SELECT COUNT(*) AS n FROM log_tree').get() as { n: number }).n
    if (hashes !== storedHashCount(size)) {
      throw new LogCorruptError(size, `tree holds ${hashes} hashes, ${size} entries need ${storedHashCount(size)}`)
    }
    this.#appender = TreeAppender.fromStore(size, this, nodeHashNode)
  }

  /** Opens (creating and migrating if needed) the log in `path` for the network of `genesis`. */
  static open(path: string, options: LogStoreOptions): LogStore {
    const db = openDatabase(path, { readonly: options.readonly ?? false })
    try {
      if (!db.readonly) migrate(db, 'log', MIGRATIONS)
      const network = networkIdOf(options.genesis)
      const stored = db.prepare("SELECT value FROM log_meta WHERE key = 'network'").get() as { value: string } | undefined
      if (stored === undefined) {
        if (!db.readonly) db.prepare("INSERT INTO log_meta (key, value) VALUES ('network', ?)").run(network)
      } else if (stored.value !== network) {
        throw new WrongNetworkError(network, stored.value)
      }
      const store = new LogStore(db, options.genesis)
      if (options.verifyOnOpen ?? true) store.checkIntegrity()
      return store
    } catch (err) {
      db.close()
      throw err
    }
  }

  private prepare() {
    const db = this.db
    return {
      insertEntry: db.prepare('INSERT INTO log_entries (idx, hash, author, seq, kind, data) VALUES (?, ?, ?, ?, ?, ?)'),
      insertHash: db.prepare('INSERT INTO log_tree (id, hash) VALUES (?, ?)'),
      hashById: db.prepare('SELECT hash FROM log_tree WHERE id = ?').pluck(),
      entryByIndex: db.prepare('SELECT idx, hash, data FROM log_entries WHERE idx = ?'),
      entryRange: db.prepare('SELECT idx, hash, data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      indexByHash: db.prepare('SELECT idx FROM log_entries WHERE hash = ?').pluck(),
      seqUsed: db.prepare('SELECT 1 FROM log_entries WHERE author = ? AND seq = ?').pluck(),
      maxSeq: db.prepare('SELECT MAX(seq) FROM log_entries WHERE author = ?').pluck(),
      maxPendingSeq: db.prepare('SELECT MAX(seq) FROM log_pending WHERE author = ?').pluck(),
      deletePending: db.prepare('DELETE FROM log_pending WHERE hash = ?'),
      deletePendingSeq: db.prepare('DELETE FROM log_pending WHERE author = ? AND seq = ?'),
      pendingBySeq: db.prepare('SELECT hash FROM log_pending WHERE author = ? AND seq = ?').pluck(),
      // Only the same entry again is ignored: a twin (same author and seq) fails on the unique index.
      insertPending: db.prepare('INSERT INTO log_pending (hash, author, seq, data, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING'),
      checkpointBySize: db.prepare('SELECT size, root, epoch, final, note FROM log_checkpoints WHERE size = ?'),
      putCheckpoint: db.prepare(
        'INSERT INTO log_checkpoints (size, root, epoch, final, note) VALUES (?, ?, ?, ?, ?) ON CONFLICT(size) DO UPDATE SET final = excluded.final, note = excluded.note, epoch = excluded.epoch',
      ),
      latestFinal: db.prepare('SELECT size, root, epoch, final, note FROM log_checkpoints WHERE final = 1 ORDER BY size DESC LIMIT 1'),
      finalRange: db.prepare('SELECT size, root, epoch, final, note FROM log_checkpoints WHERE final = 1 AND size > ? AND size <= ? ORDER BY size LIMIT ?'),
      latestNote: db.prepare(`SELECT value FROM log_meta WHERE key = '${LATEST_CHECKPOINT_KEY}'`).pluck(),
      putLatestNote: db.prepare(`INSERT INTO log_meta (key, value) VALUES ('${LATEST_CHECKPOINT_KEY}', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
      forkProofRefs: db.prepare("SELECT idx, hash FROM log_entries WHERE kind = 'fork-proof' ORDER BY idx"),
      forkProofRange: db.prepare("SELECT idx, data FROM log_entries WHERE kind = 'fork-proof' AND idx >= ? AND idx < ? ORDER BY idx"),
      includingCheckpoint: db.prepare('SELECT size, epoch FROM log_checkpoints WHERE final = 1 AND size > ? ORDER BY size LIMIT 1'),
    }
  }

  #countEntries(): number {
    const row = this.db.prepare('SELECT MAX(idx) AS m FROM log_entries').get() as { m: number | null }
    return row.m === null ? 0 : row.m + 1
  }

  /** Number of entries in the log (= tree size). */
  size(): number {
    return this.#appender.size
  }

  /** Root hash of the whole stored tree. */
  root(): Hash {
    return this.#appender.root()
  }

  /** RFC 9162 root of the first `size` entries (O(log n) reads). */
  treeHash(size: number): Hash {
    this.#checkSize(size)
    return treeHashFromStore(size, this)
  }

  /** Inclusion proof of entry `index` in the tree of `size` (default: the whole log). */
  inclusionProof(index: number, size = this.size()): Hash[] {
    this.#checkSize(size)
    return inclusionProofFromStore(index, size, this)
  }

  /** Consistency proof from the tree of `oldSize` to the tree of `newSize` (default: the whole log). */
  consistencyProof(oldSize: number, newSize = this.size()): Hash[] {
    this.#checkSize(newSize)
    return consistencyProofFromStore(oldSize, newSize, this)
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size()) throw new RangeError(`size ${size} is outside the log (0..${this.size()})`)
  }

  /** HashReader over the stored tree (tlog stored hash indexes). */
  readHashes(indexes: readonly number[]): Hash[] {
    return indexes.map((i) => {
      const h = this.#stmt.hashById.get(i) as Buffer | undefined
      if (h === undefined) throw new LogCorruptError(i, `stored tree hash ${i} is missing`)
      return new Uint8Array(h)
    })
  }

  /** True iff `author` already has an entry with `seq` in the log. */
  hasSeq(author: string, seq: number): boolean {
    return this.#stmt.seqUsed.get(author, seq) !== undefined
  }

  /** Highest seq of `author` in the log (0 if none): the next entry should use more. */
  lastSeq(author: string): number {
    return (this.#stmt.maxSeq.get(author) as number | null) ?? 0
  }

  /**
   * The seq `author`'s next entry should carry: above its entries in the log AND its pending ones,
   * so two services signing with one node key (governance, the witness's fork-proof entries) never
   * hand out the same seq.
   */
  nextSeq(author: string): number {
    return Math.max(this.lastSeq(author), (this.#stmt.maxPendingSeq.get(author) as number | null) ?? 0) + 1
  }

  /** Index of the entry with this hex hash, if in the log. */
  indexOf(hash: string): number | undefined {
    return this.#stmt.indexByHash.get(Buffer.from(hash, 'hex')) as number | undefined
  }

  /**
   * Appends validated entries, in order, as one durable transaction (all or nothing).
   * @throws ReplayedSeqError if an (author, seq) is already in the log or repeats in the batch.
   */
  append(entries: readonly AppendableEntry[]): AppendResult {
    const staged = this.#appender.clone()
    const firstIndex = staged.size
    const s = this.#stmt
    const run = this.db.transaction(() => {
      // Only look for pending copies to drop when there are pending entries at all.
      const anyPending = this.db.prepare('SELECT EXISTS (SELECT 1 FROM log_pending)').pluck().get() === 1
      for (const d of entries) {
        const hash = Buffer.from(d.hash, 'hex')
        const index = staged.size
        try {
          s.insertEntry.run(index, hash, d.entry.author, d.entry.seq, d.entry.kind, d.bytes)
        } catch (err) {
          // UNIQUE (author, seq) or UNIQUE hash: a replayed seq or a duplicate entry.
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ReplayedSeqError(d.entry.author, d.entry.seq)
          throw err
        }
        for (const h of staged.append(d.leaf ?? leafHashNode(d.bytes))) s.insertHash.run(h.index, h.hash)
        // Its pending copy, and any other entry pending with its (author, seq): that one can never be final now.
        if (anyPending) s.deletePendingSeq.run(d.entry.author, d.entry.seq)
      }
    })
    run.immediate()
    this.#appender = staged
    return { firstIndex, size: staged.size, root: staged.root() }
  }

  /** The entry at `index`, or undefined past the end. */
  entry(index: number): StoredEntry | undefined {
    const row = this.#stmt.entryByIndex.get(index) as EntryRow | undefined
    return row === undefined ? undefined : toStored(row)
  }

  /** Entries with index in [from, to), in order. */
  entries(from: number, to: number): StoredEntry[] {
    return (this.#stmt.entryRange.all(from, to) as EntryRow[]).map(toStored)
  }

  /**
   * Appends entries and stores the checkpoint that makes them final in ONE transaction, so a crash
   * never leaves entries without the checkpoint that tells which epoch included them.
   * @throws as `append` and `addCheckpoint`; then nothing is stored
   */
  appendFinal(entries: readonly AppendableEntry[], note: string, policy: WitnessPolicy = this.witnessPolicy()): { appended: AppendResult; checkpoint: StoredCheckpoint } {
    const before = this.#appender
    let out: { appended: AppendResult; checkpoint: StoredCheckpoint } | undefined
    try {
      // `append`'s own transaction becomes a savepoint inside this one.
      this.db.transaction(() => {
        const appended = this.append(entries)
        out = { appended, checkpoint: this.addCheckpoint(note, policy) }
      }).immediate()
    } catch (err) {
      this.#appender = before
      throw err
    }
    return out!
  }

  /**
   * Stores a checkpoint note after checking it against our own tree: origin, size ≤ our size, and
   * root = our tree hash at that size. Keeps only cosignatures valid under `policy` (default:
   * `witnessPolicy()`, the convictions final in our log), merging with those already held
   * for the same note body.
   *
   * The first FINAL checkpoint of a size is kept for good (see the module comment): a later one of
   * the same size with another body (a later epoch) does not replace it, it only becomes the latest
   * final checkpoint. The returned value describes the note given (with the merged cosignatures).
   * @throws BadCheckpointError when the note is malformed, for another log, ahead of us, or its root differs
   */
  addCheckpoint(note: string, policy: WitnessPolicy = this.witnessPolicy()): StoredCheckpoint {
    const signed = parseSignedCheckpoint(note)
    const cp = signed.checkpoint
    if (cp.origin !== this.origin) throw new BadCheckpointError(`origin '${cp.origin.slice(0, 80)}' is not this log's`)
    if (cp.size > this.size()) throw new BadCheckpointError(`size ${cp.size} is ahead of the stored log (${this.size()})`)
    if (!bytesEqual(cp.root, this.treeHash(cp.size))) {
      throw new BadCheckpointError(`root at size ${cp.size} differs from the stored tree (fork or corruption)`)
    }
    const previous = this.checkpoint(cp.size)
    const previousSigned = previous === undefined ? undefined : parseSignedCheckpoint(previous.note)
    const sameBody = previousSigned !== undefined && previousSigned.body === signed.body
    const latestNote = this.#stmt.latestNote.get() as string | undefined
    const latestSigned = latestNote === undefined ? undefined : parseSignedCheckpoint(latestNote)
    const earlier = [...(sameBody ? previousSigned.signatures : []), ...(latestSigned?.body === signed.body ? latestSigned.signatures : [])]
    const sigs: NoteSignature[] = []
    const names = new Set<string>()
    const counting = countingWitnesses(policy, { epoch: epochOf(cp), size: cp.size })
    for (const candidate of [...earlier, ...signed.signatures]) {
      if (names.has(candidate.name)) continue
      const one = verifyCosignatures({ ...signed, signatures: [candidate] }, counting)
      if (one.valid.length === 1) {
        sigs.push(candidate)
        names.add(candidate.name)
      }
    }
    const final = sigs.length >= policy.threshold
    const merged = formatSignedNote(signed.body, sigs)
    const epoch = epochOf(cp)
    // Never replace the first final checkpoint of a size with another body (a later, empty epoch).
    if (previous === undefined || !previous.final || sameBody) {
      this.#stmt.putCheckpoint.run(cp.size, Buffer.from(cp.root), epoch ?? null, final ? 1 : 0, merged)
    }
    if (final && (latestSigned === undefined || latestSigned.body === signed.body || laterThan(cp, latestSigned.checkpoint))) {
      this.#stmt.putLatestNote.run(merged)
    }
    return { size: cp.size, root: cp.root, epoch, final, note: merged }
  }

  /**
   * The first final checkpoints of the sizes in (`after`, `upTo`], ascending, at most `limit`:
   * the checkpoints that made each batch of entries final (what sync hands a new node).
   */
  finalCheckpoints(after: number, upTo: number, limit: number): StoredCheckpoint[] {
    return (this.#stmt.finalRange.all(after, upTo, limit) as CheckpointRow[]).map(toCheckpoint)
  }

  /** The stored checkpoint of `size`, if any. */
  checkpoint(size: number): StoredCheckpoint | undefined {
    const row = this.#stmt.checkpointBySize.get(size) as CheckpointRow | undefined
    return row === undefined ? undefined : toCheckpoint(row)
  }

  /**
   * The latest final checkpoint, if any: the largest size and, among checkpoints of that size, the
   * latest epoch (it can be an epoch that added no entry; `checkpoint(size)` is the one that did).
   */
  latestFinalCheckpoint(): StoredCheckpoint | undefined {
    const row = this.#stmt.latestFinal.get() as CheckpointRow | undefined
    const note = this.#stmt.latestNote.get() as string | undefined
    if (note === undefined) return row === undefined ? undefined : toCheckpoint(row)
    const cp = parseSignedCheckpoint(note).checkpoint
    if (row !== undefined && row.size > cp.size) return toCheckpoint(row)
    return { size: cp.size, root: cp.root, epoch: epochOf(cp), final: true, note }
  }

  /**
   * Every stored checkpoint, by size: per size the first final one (the checkpoint that included
   * its entries), or the last non-final one while none of that size is final.
   */

  checkpoints(): StoredCheckpoint[] {
    return (this.db.prepare('SELECT size, root, epoch, final, note FROM log_checkpoints ORDER BY size').all() as CheckpointRow[]).map(toCheckpoint)
  }

  /**
   * Genesis witnesses minus those convicted in the log, with the genesis threshold; a convicted
   * witness still counts for checkpoints up to the one that made its conviction final
   * (`countingWitnesses`).
   */
  witnessPolicy(): WitnessPolicy {
    return witnessPolicyOf(this.genesis, this.convictions())
  }

  /**
   * Keeps a valid entry that is not final yet (idempotent). One entry per (author, seq): were two
   * "twins" pending with one seq, both could enter a batch, which could then never be appended
   * (the log holds one entry per seq), and the witnesses could decide no height again. Since a
   * correct witness's sets hold at most one twin, and k > 2n/3, at most one can reach k. Which
   * one is the caller's choice ({@link pendingTwin}, `removePending`): witnesses keep the lowest
   * hash, so they all converge on the same twin.
   * @throws ReplayedSeqError if its seq is used in the log, or by another pending entry
   */
  addPending(d: DecodedEntry, receivedAt = Date.now()): boolean {
    if (this.hasSeq(d.entry.author, d.entry.seq)) throw new ReplayedSeqError(d.entry.author, d.entry.seq)
    const twin = this.pendingTwin(d.entry.author, d.entry.seq)
    if (twin !== undefined && twin !== d.hash) throw new ReplayedSeqError(d.entry.author, d.entry.seq)
    return this.#stmt.insertPending.run(Buffer.from(d.hash, 'hex'), d.entry.author, d.entry.seq, d.bytes, receivedAt).changes === 1
  }

  /** Puts `d` in the place of its pending twin `twin` (same author and seq), in one transaction. */
  replacePending(twin: string, d: DecodedEntry, receivedAt = Date.now()): void {
    this.db.transaction(() => {
      this.#stmt.deletePending.run(Buffer.from(twin, 'hex'))
      this.addPending(d, receivedAt)
    })()
  }

  /** Hex hash of the entry pending with `author`'s `seq`, if any. */
  pendingTwin(author: string, seq: number): string | undefined {
    return (this.#stmt.pendingBySeq.get(author, seq) as Buffer | undefined)?.toString('hex')
  }

  /** Pending entries (canonical bytes), oldest first. */
  pending(): StoredEntry[] {
    const rows = this.db.prepare('SELECT hash, data FROM log_pending ORDER BY received_at, hash').all() as Array<{ hash: Buffer; data: Buffer }>
    return rows.map((r, i) => ({ index: i, hash: r.hash.toString('hex'), bytes: new Uint8Array(r.data) }))
  }

  /** Drops pending entries by hex hash. */
  removePending(hashes: readonly string[]): void {
    this.db.transaction(() => {
      for (const h of hashes) this.#stmt.deletePending.run(Buffer.from(h, 'hex'))
    })()
  }

  /**
   * Verifies and keeps a fork proof as evidence (e.g. to publish as a `fork-proof` entry); returns
   * the witness it accuses. It binds nobody until that entry is final (`convictions`).
   * @throws BadProofError
   */
  addForkProof(proof: ForkProof, foundAt = Date.now()): string {
    const { origin, network, witnesses, threshold } = this.convictionContext
    if (!verifyForkProof(proof, { origin, network, finality: { witnesses, threshold } })) throw new BadProofError('fork proof does not verify')
    const text = canonicalJson(proof)
    this.db.prepare('INSERT OR IGNORE INTO log_fork_proofs (id, witness, proof, found_at) VALUES (?, ?, ?, ?)').run(sha256Hex(text), proof.witness, text, foundAt)
    return proof.witness
  }

  /** Stored fork proofs. */
  forkProofs(): ForkProof[] {
    return (this.db.prepare('SELECT proof FROM log_fork_proofs ORDER BY found_at, id').all() as Array<{ proof: string }>).map(
      (r) => JSON.parse(r.proof) as ForkProof,
    )
  }

  /** Bodies of the `fork-proof` entries at indexes [from, to), in order. */
  forkProofEntries(from: number, to: number): Array<{ index: number; body: unknown }> {
    return (this.#stmt.forkProofRange.all(from, to) as Array<{ idx: number; data: Buffer }>).map((r) => ({ index: r.idx, body: parseStoredEntry(r.data).body }))
  }

  /** Witness accused by a valid fork-proof entry, by entry hash (null: proves nothing). */
  readonly #accused = new Map<string, string | null>()

  /**
   * Witnesses convicted by a final `fork-proof` entry of the log, each with the checkpoint that
   * made its first such entry final (`convictions.ts`): the same for every node holding this log.
   */
  convictions(): Map<string, Conviction> {
    const out = new Map<string, Conviction>()
    for (const { index, witness } of this.#accusations()) {
      if (out.has(witness)) continue
      const cp = this.#stmt.includingCheckpoint.get(index) as { size: number; epoch: number | null } | undefined
      if (cp === undefined) continue // not final yet
      out.set(witness, { epoch: cp.epoch ?? undefined, size: cp.size })
    }
    return out
  }

  /** Witnesses some `fork-proof` entry of the log proves a fork against, final or not yet. */
  accusedInLog(): Set<string> {
    return new Set(this.#accusations().map((a) => a.witness))
  }

  /** The log's valid `fork-proof` entries in order: index and the witness each convicts. */
  #accusations(): Array<{ index: number; witness: string }> {
    const out: Array<{ index: number; witness: string }> = []
    for (const row of this.#stmt.forkProofRefs.all() as Array<{ idx: number; hash: Buffer }>) {
      const key = row.hash.toString('hex')
      let witness = this.#accused.get(key)
      if (witness === undefined) {
        const data = (this.#stmt.entryByIndex.get(row.idx) as { data: Buffer }).data
        witness = convictedBy(parseStoredEntry(data).body, this.convictionContext) ?? null
        this.#accused.set(key, witness)
      }
      if (witness !== null) out.push({ index: row.idx, witness })
    }
    return out
  }

  /**
   * Recomputes the tree from the stored entry bytes and compares it with the stored tree hashes
   * and with the last final checkpoint. O(n) hashing; run on open.
   * @throws LogCorruptError naming the first index whose stored data disagrees
   */
  checkIntegrity(): void {
    const size = this.size()
    const fresh = TreeAppender.empty(nodeHashNode)
    const PAGE = 4096
    const treePage = this.db.prepare('SELECT id, hash FROM log_tree WHERE id >= ? ORDER BY id LIMIT ?')
    let treeBuf: Array<{ id: number; hash: Buffer }> = []
    let treeAt = 0
    let nextId = 0
    const final = this.latestFinalCheckpoint()
    for (let from = 0; from < size; from += PAGE) {
      const rows = this.#stmt.entryRange.all(from, Math.min(size, from + PAGE)) as EntryRow[]
      for (const row of rows) {
        if (row.idx !== fresh.size) throw new LogCorruptError(fresh.size, 'entry is missing')
        for (const h of fresh.append(leafHashNode(row.data))) {
          if (treeAt >= treeBuf.length) {
            treeBuf = treePage.all(nextId, PAGE * 2) as Array<{ id: number; hash: Buffer }>
            treeAt = 0
          }
          const stored = treeBuf[treeAt++]
          if (stored === undefined || stored.id !== h.index || !bytesEqual(stored.hash, h.hash)) {
            throw new LogCorruptError(row.idx, 'stored tree hash does not match the entry bytes')
          }
          nextId = h.index + 1
        }
        if (final !== undefined && fresh.size === final.size && !bytesEqual(fresh.root(), final.root)) {
          throw new LogCorruptError(row.idx, `tree root at size ${final.size} differs from the last final checkpoint`)
        }
      }
    }
    if (final !== undefined && final.size > size) throw new LogCorruptError(size, `final checkpoint of size ${final.size} is ahead of the stored entries`)
  }

  /** Hex root (for status output). */
  rootHex(): string {
    return bytesToHex(this.root())
  }

  /** Closes the database. */
  close(): void {
    this.db.close()
  }
}

interface CheckpointRow {
  size: number
  root: Buffer
  epoch: number | null
  final: number
  note: string
}

/** True iff `a` comes after `b` in the log's history: larger, or the same size closed by a later epoch. */
function laterThan(a: Checkpoint, b: Checkpoint): boolean {
  if (a.size !== b.size) return a.size > b.size
  return (epochOf(a) ?? -1) > (epochOf(b) ?? -1)
}

function toCheckpoint(r: CheckpointRow): StoredCheckpoint {
  return { size: r.size, root: new Uint8Array(r.root), epoch: r.epoch ?? undefined, final: r.final === 1, note: r.note }
}

function toStored(r: EntryRow): StoredEntry {
  return { index: r.idx, hash: r.hash.toString('hex'), bytes: new Uint8Array(r.data) }
}
