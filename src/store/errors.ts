import { CommonsError } from '../errors.js'

/** The database file was written by a newer Commons (a migration this build does not know). */
export class SchemaTooNewError extends CommonsError {
  constructor(component: string, stored: number, known: number) {
    super('schema_too_new', `database schema of '${component}' is at version ${stored}, this build knows up to ${known}`, {
      status: 500,
    })
  }
}

/** The database could not be opened (missing directory, corrupt file, locked). */
export class StoreOpenError extends CommonsError {
  constructor(path: string, cause: unknown) {
    super('store_open_failed', `cannot open database ${path}: ${(cause as Error).message ?? String(cause)}`, { status: 500, cause })
  }
}
