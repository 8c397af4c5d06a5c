/** SQLite storage shared by the layers above (log, state snapshots, credits, jobs). */
export { openDatabase, migrate, schemaVersion, DB_FILE, type Db, type Migration } from './db.js'
export { SchemaTooNewError, StoreOpenError } from './errors.js'
