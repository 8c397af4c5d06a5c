/**
 * SQLite through better-sqlite3, configured for durability of acknowledged writes:
 * WAL journal + `synchronous=FULL`, so once a write transaction commits (and the caller
 * acknowledges it), a kill -9 or a power loss does not lose it (https://sqlite.org/wal.html,
 * https://sqlite.org/pragma.html#pragma_synchronous).
 *
 * Schema changes are versioned per component (`log`, `credits`, …) in `schema_migrations`;
 * each migration runs once, in order, inside a transaction.
 */
import Database from 'better-sqlite3'
import { SchemaTooNewError, StoreOpenError } from './errors.js'

/** An open database handle. */
export type Db = Database.Database

/** One schema step of a component. Versions start at 1 and increase by 1. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly up: (db: Db) => void
}

/** File name of the node's database inside the data dir (DESIGN.md). */
export const DB_FILE = 'commons.db'

/** Opens (creating if needed) a database with WAL, synchronous=FULL and foreign keys on. */
export function openDatabase(path: string, options: { readonly readonly?: boolean } = {}): Db {
  let db: Db
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false })
  } catch (err) {
    throw new StoreOpenError(path, err)
  }
  if (!options.readonly) db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  // Wait on a concurrent writer (e.g. `commons log verify` while a node runs) instead of failing.
  db.pragma('busy_timeout = 5000')
  return db
}

/** Schema version of `component` (0 if never migrated). */
export function schemaVersion(db: Db, component: string): number {
  ensureMigrationsTable(db)
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE component = ?').get(component) as { v: number | null }
  return row.v ?? 0
}

function ensureMigrationsTable(db: Db): void {
  if (db.readonly) return
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (component, version)
  )`)
}

/**
 * Applies the migrations of `component` newer than the stored version, each in its own
 * transaction. Refuses a database whose stored version is newer than this build knows.
 */
export function migrate(db: Db, component: string, migrations: readonly Migration[]): number {
  const current = schemaVersion(db, component)
  const known = migrations.length
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new RangeError(`migration ${component}#${i} has version ${m.version}, expected ${i + 1}`)
  })
  if (current > known) throw new SchemaTooNewError(component, current, known)
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      m.up(db)
      db.prepare('INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)').run(
        component,
        m.version,
        m.name,
        Date.now(),
      )
    })()
  }
  return known
}
