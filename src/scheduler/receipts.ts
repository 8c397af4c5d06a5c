import Database from 'better-sqlite3'
import type { SignedReceipt } from '../p2p/receipt.js'

/**
 * Verified worker receipts kept by the gateway (for credits and verification sampling). Stored
 * only after `checkReceipt` passed; the signed JSON is kept verbatim so anyone can re-verify it.
 * Uses its own table through better-sqlite3; the node's shared store can hand in its handle.
 */
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
  readonly #db: Database.Database
  readonly #owned: boolean
  readonly #insert: Database.Statement
  readonly #byId: Database.Statement
  readonly #recent: Database.Statement

  /** @param db - a path (opened and owned here), `:memory:`, or an open handle (not closed here). */
  constructor(db: string | Database.Database) {
    this.#owned = typeof db === 'string'
    this.#db = typeof db === 'string' ? new Database(db) : db
    if (this.#owned) this.#db.pragma('journal_mode = WAL')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS job_receipts (
      id TEXT PRIMARY KEY,
      job_id TEXT NOT NULL,
      worker TEXT NOT NULL,
      model_sha256 TEXT NOT NULL,
      completion_tokens INTEGER NOT NULL,
      stored_at INTEGER NOT NULL,
      signed_json TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS job_receipts_worker ON job_receipts(worker, stored_at);`)
    this.#insert = this.#db.prepare('INSERT OR IGNORE INTO job_receipts VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#byId = this.#db.prepare('SELECT * FROM job_receipts WHERE id = ?')
    this.#recent = this.#db.prepare('SELECT * FROM job_receipts ORDER BY stored_at DESC, rowid DESC LIMIT ?')
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

  close(): void {
    if (this.#owned) this.#db.close()
  }
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
