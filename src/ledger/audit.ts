/**
 * `commons log verify`: replays a stored log from genesis and checks everything it claims —
 * every entry's bytes, schema, network and signature (in parallel, `verify-pool.ts`), stored
 * entry hashes, per-author seq uniqueness, every stored tree hash, and every checkpoint (origin,
 * root at its size, each cosignature valid, ≥ k distinct witnesses where marked final).
 * Reads the SQLite tables directly (not through `LogStore`, which refuses a corrupt log), stops
 * at the first failure and names its index.
 */
import { bytesEqual, bytesToHex } from '../identity/index.js'
import { openDatabase, type Db } from '../store/db.js'
import { parseSignedCheckpoint, verifyCosignatures } from './checkpoint.js'
import { verifyForkProof, type ForkProof } from './fork-proof.js'
import { networkIdOf, originOf, type Genesis } from './genesis.js'
import { nodeHashNode } from './hash-node.js'
import { storedHashCount, TreeAppender } from './tree.js'
import type { ChunkItem, ChunkResult } from './verify-chunk.js'
import { chunkVerifierFor } from './verify-pool.js'

/** The first thing found wrong: an entry (by log index) or a checkpoint (by its size). */
export interface VerifyFailure {
  readonly kind: 'entry' | 'checkpoint'
  readonly index: number
  readonly code: string
  readonly message: string
}

/** Outcome of {@link verifyLog}. */
export interface VerifyReport {
  readonly ok: boolean
  /** Entries checked. */
  readonly size: number
  /** Hex root of the checked tree (of the entries checked before any failure). */
  readonly root: string
  readonly checkpoints: number
  /** Size of the largest checkpoint verified as final (0 if none). */
  readonly finalSize: number
  readonly failure?: VerifyFailure
}

/** Options of {@link verifyLog}. */
export interface VerifyOptions {
  /** Verifier threads (default: one per core; 0 = inline). */
  readonly threads?: number
  /** Entries per chunk handed to a thread. */
  readonly chunkSize?: number
  /** Called after each chunk with entries checked so far and the total. */
  readonly onProgress?: (checked: number, total: number) => void
  readonly signal?: AbortSignal
}

interface CheckpointRow {
  size: number
  root: Buffer
  final: number
  note: string
}

// A raw entry row (better-sqlite3 `.raw()`: arrays, cheaper than objects at 1M rows).
type EntryRow = [idx: number, hash: Buffer, author: string, seq: number, data: Buffer]
const ROW_IDX = 0
const ROW_HASH = 1
const ROW_AUTHOR = 2
const ROW_SEQ = 3
const ROW_DATA = 4

class Failed extends Error {
  constructor(readonly failure: VerifyFailure) {
    super(failure.message)
  }
}

const entryFailure = (index: number, code: string, message: string): Failed => new Failed({ kind: 'entry', index, code, message })
const checkpointFailure = (size: number, code: string, message: string): Failed => new Failed({ kind: 'checkpoint', index: size, code, message })

/** Verifies the log in the database file at `path` for `genesis`. Never throws on bad data: reports it. */
export async function verifyLog(path: string, genesis: Genesis, options: VerifyOptions = {}): Promise<VerifyReport> {
  const db = openDatabase(path, { readonly: true })
  try {
    return await verifyDb(db, genesis, options)
  } finally {
    db.close()
  }
}

async function verifyDb(db: Db, genesis: Genesis, options: VerifyOptions): Promise<VerifyReport> {
  const network = networkIdOf(genesis)
  const origin = originOf(genesis)
  const chunkSize = options.chunkSize ?? 4096
  const total = ((db.prepare('SELECT MAX(idx) AS m FROM log_entries').get() as { m: number | null }).m ?? -1) + 1
  const checkpoints = db.prepare('SELECT size, root, final, note FROM log_checkpoints ORDER BY size').all() as CheckpointRow[]
  const banned = new Set<string>()
  for (const row of db.prepare('SELECT proof FROM log_fork_proofs').all() as Array<{ proof: string }>) {
    const proof = JSON.parse(row.proof) as ForkProof
    if (verifyForkProof(proof, { origin, network })) banned.add(proof.witness)
  }
  const policyWitnesses = genesis.witnesses.filter((w) => !banned.has(w))

  const appender = TreeAppender.empty(nodeHashNode)
  const seqs = new Map<string, Set<number>>()
  let cpAt = 0
  let finalSize = 0
  // Stored tree hashes are numbered in the order appends write them (tlog), so they are read as
  // consecutive id pages of raw [id, hash] rows (cheaper than row objects at 2 hashes per entry).
  const treePage = db.prepare('SELECT id, hash FROM log_tree WHERE id >= ? ORDER BY id LIMIT ?').raw()
  let treeBuf: Array<[number, Buffer]> = []
  let treeAt = 0
  let nextTreeId = 0

  const checkCheckpointsAtSize = (): void => {
    while (cpAt < checkpoints.length && checkpoints[cpAt]!.size <= appender.size) {
      const row = checkpoints[cpAt++]!
      if (row.size < appender.size) continue // size 0 (or duplicate): nothing to compare
      checkCheckpoint(row)
    }
  }

  const checkCheckpoint = (row: CheckpointRow): void => {
    let signed
    try {
      signed = parseSignedCheckpoint(row.note)
    } catch (err) {
      throw checkpointFailure(row.size, 'bad_checkpoint', (err as Error).message)
    }
    const cp = signed.checkpoint
    if (cp.origin !== origin) throw checkpointFailure(row.size, 'bad_checkpoint', 'origin is not this log')
    if (cp.size !== row.size || !bytesEqual(cp.root, row.root)) throw checkpointFailure(row.size, 'bad_checkpoint', 'note disagrees with its stored size/root')
    if (!bytesEqual(cp.root, appender.root())) throw checkpointFailure(row.size, 'root_mismatch', `root differs from the tree recomputed at size ${row.size}`)
    const all = verifyCosignatures(signed, genesis.witnesses)
    if (all.invalid.length > 0 || all.valid.length !== signed.signatures.length) {
      throw checkpointFailure(row.size, 'bad_cosignature', `${signed.signatures.length - all.valid.length} cosignature(s) do not verify against a genesis witness`)
    }
    const counted = all.valid.filter((w) => !banned.has(w)).length
    if (row.final === 1) {
      if (counted < genesis.threshold) {
        throw checkpointFailure(row.size, 'not_final', `marked final with ${counted} valid witness cosignatures, needs ${genesis.threshold}`)
      }
      finalSize = Math.max(finalSize, row.size)
    }
  }

  const consume = (start: number, rows: EntryRow[], result: ChunkResult): void => {
    for (let i = 0; i < result.ok; i++) {
      const row = rows[i]!
      const index = start + i
      const author = result.authors[i]!
      const seq = result.seqs[i]!
      if (row[ROW_AUTHOR] !== author || row[ROW_SEQ] !== seq) throw entryFailure(index, 'bad_index_row', 'stored author/seq columns disagree with the entry')
      let used = seqs.get(author)
      if (used === undefined) seqs.set(author, (used = new Set()))
      if (used.has(seq)) throw entryFailure(index, 'replayed_seq', `author ${author.slice(0, 16)}… reuses seq ${seq}`)
      used.add(seq)
      for (const h of appender.append(result.leaves.subarray(i * 32, i * 32 + 32))) {
        if (treeAt >= treeBuf.length) {
          treeBuf = treePage.all(nextTreeId, 8192) as Array<[number, Buffer]>
          treeAt = 0
        }
        const stored = treeBuf[treeAt++]
        if (stored === undefined || stored[0] !== h.index || !bytesEqual(stored[1], h.hash)) {
          throw entryFailure(index, 'tree_mismatch', 'stored tree hash does not match the entries')
        }
        nextTreeId = h.index + 1
      }
      checkCheckpointsAtSize()
    }
    if (result.error !== undefined) throw entryFailure(result.error.index, result.error.code, result.error.message)
  }

  const entryPage = db.prepare('SELECT idx, hash, author, seq, data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx').raw()
  const verifier = chunkVerifierFor(network, total, options.threads)
  const inFlight: Array<{ start: number; rows: EntryRow[]; result: Promise<ChunkResult> }> = []
  const depth = Math.max(2, (options.threads ?? 2) * 3)
  let failure: VerifyFailure | undefined
  try {
    checkCheckpointsAtSize()
    let next = 0
    while (next < total || inFlight.length > 0) {
      options.signal?.throwIfAborted()
      while (next < total && inFlight.length < depth) {
        const end = Math.min(total, next + chunkSize)
        const rows = entryPage.all(next, end) as EntryRow[]
        const contiguous = rows.findIndex((r, i) => r[ROW_IDX] !== next + i)
        if (contiguous >= 0 || rows.length < end - next) {
          // Verify what precedes the gap, then report the first missing index.
          const cut = contiguous >= 0 ? contiguous : rows.length
          inFlight.push({ start: next, rows: rows.slice(0, cut), result: verifier.verify(toItems(rows.slice(0, cut))) })
          inFlight.push({ start: next + cut, rows: [], result: Promise.resolve(missing(next + cut)) })
          next = total
          break
        }
        inFlight.push({ start: next, rows, result: verifier.verify(toItems(rows)) })
        next = end
      }
      const head = inFlight.shift()!
      consume(head.start, head.rows, await head.result)
      options.onProgress?.(appender.size, total)
    }
    if (cpAt < checkpoints.length) {
      const row = checkpoints[cpAt]!
      throw checkpointFailure(row.size, 'bad_checkpoint', `checkpoint of size ${row.size} is ahead of the ${total} stored entries`)
    }
    const hashes = (db.prepare('SELECT COUNT(*) AS n FROM log_tree').get() as { n: number }).n
    if (hashes !== storedHashCount(total)) throw entryFailure(total, 'tree_mismatch', `tree holds ${hashes} hashes, ${total} entries need ${storedHashCount(total)}`)
  } catch (err) {
    if (!(err instanceof Failed)) throw err
    failure = err.failure
  } finally {
    await verifier.close()
  }
  return {
    ok: failure === undefined,
    size: appender.size,
    root: bytesToHex(appender.root()),
    checkpoints: checkpoints.length,
    finalSize,
    ...(failure === undefined ? {} : { failure }),
  }
}

function toItems(rows: readonly EntryRow[]): ChunkItem[] {
  return rows.map((r) => ({ index: r[ROW_IDX], hash: r[ROW_HASH], bytes: r[ROW_DATA] }))
}

function missing(index: number): ChunkResult {
  return { ok: 0, leaves: new Uint8Array(0), authors: [], seqs: [], kinds: [], hashes: [], error: { index, code: 'missing_entry', message: 'entry is missing' } }
}
