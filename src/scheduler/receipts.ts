import { existsSync, renameSync } from 'node:fs'
import type Database from 'better-sqlite3'
import type { Logger } from 'pino'
import { migrate, openDatabase, type Db, type Migration } from '../store/index.js'
import type { SignedReceipt } from '../p2p/receipt.js'

/**
 * Verified worker receipts kept by the gateway (for credits and verification sampling). Stored
 * only after `checkReceipt` passed; the signed JSON is kept verbatim so anyone can re-verify it.
 *
 * The table lives in the node's one database (`commons.db`, DESIGN.md "store/"), owned by the
 * scheduler layer and versioned by the store's migrations under the component `receipts`.
 * Older data dirs kept receipts in a separate `receipts.db`: `importLegacyReceipts` moves them in.
 */

/** Migration component of the receipts table in the node's database. */
export const RECEIPTS_COMPONENT = 'receipts'

/** Schema of the receipts table, in order (see `migrate` in `src/store/db.ts`). */
export const RECEIPT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'job_receipts',
    up: (db) => db.exec(`CREATE TABLE IF NOT EXISTS job_receipts (
      id TEXT PRIMARY KEY,
      job_id TEXT NOT NULL,
      worker TEXT NOT NULL,
      model_sha256 TEXT NOT NULL,
      completion_tokens INTEGER NOT NULL,
      stored_at INTEGER NOT NULL,
      signed_json TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS job_receipts_worker ON job_receipts(worker, stored_at);`),
  },
]

/** File name of the separate receipts database of data dirs from before receipts moved into `commons.db`. */
export const LEGACY_RECEIPTS_FILE = 'receipts.db'

export interface StoredReceipt {
  readonly id: string
  readonly jobId: string
  readonly worker: string
  readonly modelSha256: string
  readonly completionTokens: number
  readonly storedAt: number
  readonly signed: SignedReceipt
}

export class ReceiptStore {
  readonly #db: Db
  readonly #owned: boolean
  readonly #insert: Database.Statement
  readonly #byId: Database.Statement
  readonly #recent: Database.Statement
  readonly #count: Database.Statement

  /**
   * @param db - a database path (opened through the store, owned and closed here; `:memory:`
   * for tests) or an open handle of the node's database (not closed here). Either way the
   * receipts migrations are applied.
   */
  constructor(db: string | Db) {
    this.#owned = typeof db === 'string'
    this.#db = typeof db === 'string' ? openDatabase(db) : db
    try {
      migrate(this.#db, RECEIPTS_COMPONENT, RECEIPT_MIGRATIONS)
    } catch (err) {
      if (this.#owned) this.#db.close()
      throw err
    }
    this.#insert = this.#db.prepare('INSERT OR IGNORE INTO job_receipts (id, job_id, worker, model_sha256, completion_tokens, stored_at, signed_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#byId = this.#db.prepare('SELECT * FROM job_receipts WHERE id = ?')
    this.#recent = this.#db.prepare('SELECT * FROM job_receipts ORDER BY stored_at DESC, rowid DESC LIMIT ?')
    this.#count = this.#db.prepare('SELECT COUNT(*) AS n FROM job_receipts')
  }

  /** Stores a receipt already verified by the caller; idempotent on its id. */
  add(id: string, signed: SignedReceipt, storedAt: number = Date.now()): void {
    const r = signed.receipt
    this.#insert.run(id, r.jobId, r.worker, r.model.sha256, r.completionTokens, storedAt, JSON.stringify(signed))
  }

  get(id: string): StoredReceipt | undefined {
    const row = this.#byId.get(id) as Row | undefined
    return row === undefined ? undefined : fromRow(row)
  }

  recent(limit = 100): StoredReceipt[] {
    return (this.#recent.all(limit) as Row[]).map(fromRow)
  }

  /** Receipts held. */
  count(): number {
    return (this.#count.get() as { n: number }).n
  }

  /**
   * Copies every receipt of another receipts database (same table layout) into this one, keeping
   * receipts already here; returns how many were new. Rows are re-read as stored, not re-verified:
   * they were verified when first stored, and the signed JSON lets anyone check them again.
   */
  importFrom(path: string): number {
    const before = this.count()
    this.#db.prepare('ATTACH DATABASE ? AS legacy').run(path)
    try {
      this.#db.exec(`INSERT OR IGNORE INTO main.job_receipts (id, job_id, worker, model_sha256, completion_tokens, stored_at, signed_json)
        SELECT id, job_id, worker, model_sha256, completion_tokens, stored_at, signed_json FROM legacy.job_receipts`)
    } finally {
      this.#db.exec('DETACH DATABASE legacy')
    }
    return this.count() - before
  }

  close(): void {
    if (this.#owned) this.#db.close()
  }
}

/**
 * Imports the `receipts.db` of an older data dir into `store` once, then renames it (and its
 * WAL/SHM files) to `*.imported` so it is not read again; an unreadable one is left in place and
 * ignored. Either way one log line says what happened. Returns the receipts imported.
 */
export function importLegacyReceipts(store: ReceiptStore, legacyPath: string, logger?: Logger): number {
  if (!existsSync(legacyPath)) return 0
  let imported: number
  try {
    imported = store.importFrom(legacyPath)
  } catch (err) {
    logger?.warn({ path: legacyPath, err: err instanceof Error ? err.message : String(err) }, 'old receipts database not imported (unreadable); ignoring it')
    return 0
  }
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(legacyPath + suffix)) renameSync(legacyPath + suffix, `${legacyPath}${suffix}.imported`)
  }
  logger?.info({ path: legacyPath, imported, renamedTo: `${legacyPath}.imported` }, 'imported receipts from the old receipts database into the node database')
  return imported
}

interface Row {
  id: string
  job_id: string
  worker: string
  model_sha256: string
  completion_tokens: number
  stored_at: number
  signed_json: string
}

function fromRow(row: Row): StoredReceipt {
  return {
    id: row.id,
    jobId: row.job_id,
    worker: row.worker,
    modelSha256: row.model_sha256,
    completionTokens: row.completion_tokens,
    storedAt: row.stored_at,
    signed: JSON.parse(row.signed_json) as SignedReceipt,
  }
}
