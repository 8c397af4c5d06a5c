/**
 * `commons log verify`: replays a stored log from genesis and checks everything it claims —
 * every entry's bytes, schema, network and signature, stored entry hashes and index columns,
 * per-author seq uniqueness, every stored tree hash, and every checkpoint (origin, root at its
 * size, each cosignature valid, ≥ k distinct witnesses where marked final).
 * Reads the SQLite tables directly (not through `LogStore`, which refuses a corrupt log), stops
 * at the first failure and names its index.
 *
 * Work split: the log is cut into aligned power-of-two ranges that verifier threads read and
 * check on their own (`verify-range.ts`: entries, hashes, the tree up to the range's level);
 * this thread takes their results in order and checks what needs the whole log — seq
 * uniqueness, tree levels above a range, checkpoints — so the first failure in log order is
 * the one reported.
 */
import { resolve } from 'node:path'
import { bytesEqual, bytesToHex } from '../identity/index.js'
import { openDatabase, type Db } from '../store/db.js'
import { epochOf, parseSignedCheckpoint, verifyCosignatures } from './checkpoint.js'
import { ConvictionTracker, countsAt } from './convictions.js'
import { networkIdOf, originOf, type Genesis } from './genesis.js'
import { nodeHashNode } from './hash-node.js'
import type { Hash } from './merkle.js'
import { storedHashCount, storedHashIndex, treeHashFromStore, type HashReader } from './tree.js'
import { EntryVerifierPool, INLINE_LIMIT, sharedVerifierPool } from './verify-pool.js'
import { verifyRange, type RangeResult } from './verify-range.js'

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
  /** Entries per range handed to a thread (rounded down to a power of two; default 4096). */
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
    return await verifyDb(db, resolve(path), genesis, options)
  } finally {
    db.close()
  }
}

/** Checks aligned ranges: on verifier threads (which open the file themselves) or inline. */
interface RangeChecker {
  readonly parallel: number
  check(from: number, length: number, end: number): Promise<RangeResult>
  close(): Promise<void>
}

function rangeChecker(db: Db, path: string, network: string, total: number, threads: number | undefined): RangeChecker {
  if (threads === 0 || total <= INLINE_LIMIT) {
    return { parallel: 1, check: async (from, length, end) => verifyRange(db, network, from, length, end), close: async () => {} }
  }
  const own = threads === undefined ? undefined : new EntryVerifierPool(threads)
  const pool = own ?? sharedVerifierPool()
  return {
    parallel: pool.threads,
    check: (from, length, end) => pool.verifyRange(path, network, from, length, end),
    close: async () => {
      await own?.close()
    },
  }
}

/** Largest power of two ≤ n (n ≥ 1). */
function floorPowerOfTwo(n: number): number {
  let p = 1
  while (p * 2 <= n) p *= 2
  return p
}

async function verifyDb(db: Db, path: string, genesis: Genesis, options: VerifyOptions): Promise<VerifyReport> {
  const network = networkIdOf(genesis)
  const origin = originOf(genesis)
  const length = floorPowerOfTwo(Math.max(1, Math.floor(options.chunkSize ?? 4096)))
  const rangeLevel = Math.log2(length)
  // One consistent view of everything judged as a whole: a running node may append meanwhile (in
  // WAL mode a read transaction sees one snapshot). Entries and tree hashes below `total` never
  // change, so the ranges read later need no transaction.
  const view = db.transaction(() => ({
    total: ((db.prepare('SELECT MAX(idx) AS m FROM log_entries').get() as { m: number | null }).m ?? -1) + 1,
    checkpoints: db.prepare('SELECT size, root, final, note FROM log_checkpoints ORDER BY size').all() as CheckpointRow[],
    treeHashes: (db.prepare('SELECT COUNT(*) AS n FROM log_tree').get() as { n: number }).n,
    latest: db.prepare("SELECT value FROM log_meta WHERE key = 'latest_checkpoint'").pluck().get() as string | undefined,
  }))()
  const { total, checkpoints } = view
  // Witnesses convicted by fork-proof entries, from the entries themselves (never the kind column).
  const convictions = new ConvictionTracker({ origin, network, witnesses: genesis.witnesses, threshold: genesis.threshold })

  const hashById = db.prepare('SELECT hash FROM log_tree WHERE id = ?').pluck()
  // Only hashes already checked against the entries are ever read through this (see below).
  const stored: HashReader = {
    readHashes: (ids) =>
      ids.map((id) => {
        const h = hashById.get(id) as Buffer | undefined
        if (h === undefined) throw entryFailure(checked, 'tree_mismatch', `stored tree hash ${id} is missing`)
        return h
      }),
  }
  const seqs = new Map<string, Set<number>>()
  // Complete subtrees of levels ≥ rangeLevel covering [0, checked), left to right.
  const upper: Array<{ level: number; hash: Hash }> = []
  let checked = 0
  let cpAt = 0
  let finalSize = 0

  // Root of the first `size` entries from stored hashes: every subtree of [0, size) has been
  // compared with the recomputed tree by the time `checked` reaches `size`.
  const rootAt = (size: number): Hash => treeHashFromStore(size, stored)

  const checkCheckpointsAtSize = (): void => {
    while (cpAt < checkpoints.length && checkpoints[cpAt]!.size <= checked) {
      const row = checkpoints[cpAt++]!
      if (row.size < checked) continue // size 0 (or duplicate): nothing to compare
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
    if (!bytesEqual(cp.root, rootAt(row.size))) throw checkpointFailure(row.size, 'root_mismatch', `root differs from the tree recomputed at size ${row.size}`)
    const all = verifyCosignatures(signed, genesis.witnesses)
    if (all.invalid.length > 0 || all.valid.length !== signed.signatures.length) {
      throw checkpointFailure(row.size, 'bad_cosignature', `${signed.signatures.length - all.valid.length} cosignature(s) do not verify against a genesis witness`)
    }
    const epoch = epochOf(cp)
    const place = { epoch, size: row.size }
    const counted = all.valid.filter((w) => countsAt(convictions.convictions, w, place)).length
    if (row.final === 1) {
      if (counted < genesis.threshold) {
        throw checkpointFailure(row.size, 'not_final', `marked final with ${counted} valid witness cosignatures, needs ${genesis.threshold}`)
      }
      finalSize = Math.max(finalSize, row.size)
      convictions.finalCheckpoint(place)
    }
  }

  /** A full range's subtree joins the upper edge; the subtrees it completes must equal the stored ones. */
  const appendUpper = (root: Hash, lastIndex: number): void => {
    upper.push({ level: rangeLevel, hash: root })
    while (upper.length >= 2 && upper[upper.length - 1]!.level === upper[upper.length - 2]!.level) {
      const right = upper.pop()!
      const left = upper.pop()!
      const level = right.level + 1
      const hash = nodeHashNode(left.hash, right.hash)
      const id = storedHashIndex(level, (lastIndex + 1) / 2 ** level - 1)
      const h = hashById.get(id) as Buffer | undefined
      if (h === undefined || !bytesEqual(h, hash)) throw entryFailure(lastIndex, 'tree_mismatch', 'stored tree hash does not match the entries')
      upper.push({ level, hash })
    }
  }

  const consume = (r: RangeResult): void => {
    let proofAt = 0
    for (let i = 0; i < r.ok; i++) {
      const index = r.from + i
      const proof = r.forkProofs[proofAt]
      if (proof?.index === index) {
        convictions.forkProofEntry(index, proof.body)
        proofAt++
      }
      const author = r.authors[r.authorOf[i]!]!
      const seq = r.seqs[i]!
      let used = seqs.get(author)
      if (used === undefined) seqs.set(author, (used = new Set()))
      if (used.has(seq)) throw entryFailure(index, 'replayed_seq', `author ${author.slice(0, 16)}… reuses seq ${seq}`)
      used.add(seq)
      if (i === length - 1 && r.root !== undefined) appendUpper(r.root, index)
      checked = index + 1
      checkCheckpointsAtSize()
    }
    if (r.error !== undefined) throw entryFailure(r.error.index, r.error.code, r.error.message)
  }

  const checker = rangeChecker(db, path, network, total, options.threads)
  const inFlight: Array<Promise<RangeResult>> = []
  const depth = Math.max(2, checker.parallel * 3)
  let failure: VerifyFailure | undefined
  try {
    checkCheckpointsAtSize()
    let next = 0
    while (next < total || inFlight.length > 0) {
      options.signal?.throwIfAborted()
      while (next < total && inFlight.length < depth) {
        const range = checker.check(next, length, total)
        // Awaited in order below; a later range failing first must not be an unhandled rejection.
        range.catch(() => {})
        inFlight.push(range)
        next += length
      }
      consume(await inFlight.shift()!)
      options.onProgress?.(checked, total)
    }
    if (cpAt < checkpoints.length) {
      const row = checkpoints[cpAt]!
      throw checkpointFailure(row.size, 'bad_checkpoint', `checkpoint of size ${row.size} is ahead of the ${total} stored entries`)
    }
    const hashes = view.treeHashes
    if (hashes !== storedHashCount(total)) throw entryFailure(total, 'tree_mismatch', `tree holds ${hashes} hashes, ${total} entries need ${storedHashCount(total)}`)
    // The latest final checkpoint (kept apart when it names an epoch that added no entry; it is
    // the governance clock) must hold like any stored one: same origin, the tree's root at its
    // size, k valid cosignatures.
    const latest = view.latest
    if (latest !== undefined) {
      let size = finalSize
      let root: Buffer = Buffer.alloc(0)
      try {
        const cp = parseSignedCheckpoint(latest).checkpoint
        size = cp.size
        root = Buffer.from(cp.root)
      } catch (err) {
        throw checkpointFailure(size, 'bad_checkpoint', `latest checkpoint: ${(err as Error).message}`)
      }
      if (size > total) throw checkpointFailure(size, 'bad_checkpoint', `latest checkpoint of size ${size} is ahead of the ${total} stored entries`)
      checkCheckpoint({ size, root, final: 1, note: latest })
    }
  } catch (err) {
    if (!(err instanceof Failed)) throw err
    failure = err.failure
  } finally {
    // Ranges still in flight after a failure: let them settle before the threads are released.
    await Promise.allSettled(inFlight)
    await checker.close()
  }
  let root: string
  try {
    root = bytesToHex(rootAt(checked))
  } catch {
    root = '' // unreachable in practice: every hash of [0, checked) was read while checking
  }
  return {
    ok: failure === undefined,
    size: checked,
    root,
    checkpoints: checkpoints.length,
    finalSize,
    ...(failure === undefined ? {} : { failure }),
  }
}
