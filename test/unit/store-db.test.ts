// SQLite store: durability pragmas and versioned migrations (run once, in order; newer schema refused).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { SchemaTooNewError, migrate, openDatabase, schemaVersion, type Migration } from '../../src/store/index.js'
import { tempDir } from './ledger-helpers.js'

test('databases open in WAL mode with synchronous=FULL', () => {
  const t = tempDir('commons-db-')
  try {
    const db = openDatabase(join(t.dir, 'x.db'))
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL = 2')
    db.close()
  } finally {
    t.cleanup()
  }
})

test('migrations run once, in order, per component; a newer schema is refused', () => {
  const t = tempDir('commons-db-')
  try {
    const path = join(t.dir, 'x.db')
    const applied: string[] = []
    const v1: Migration[] = [{ version: 1, name: 'a', up: (db) => { applied.push('a'); db.exec('CREATE TABLE a (x)') } }]
    const v2: Migration[] = [...v1, { version: 2, name: 'b', up: (db) => { applied.push('b'); db.exec('ALTER TABLE a ADD COLUMN y') } }]
    let db = openDatabase(path)
    assert.equal(migrate(db, 'comp', v1), 1)
    assert.equal(migrate(db, 'comp', v1), 1)
    assert.equal(schemaVersion(db, 'other'), 0)
    db.close()
    db = openDatabase(path)
    migrate(db, 'comp', v2)
    assert.deepEqual(applied, ['a', 'b'])
    assert.equal(schemaVersion(db, 'comp'), 2)
    assert.throws(() => migrate(db, 'comp', v1), SchemaTooNewError)
    // A failing migration leaves no trace (transaction).
    const bad: Migration[] = [...v2, { version: 3, name: 'c', up: (d) => { d.exec('CREATE TABLE c (x)'); throw new Error('boom') } }]
    assert.throws(() => migrate(db, 'comp', bad), /boom/)
    assert.equal(schemaVersion(db, 'comp'), 2)
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'c'").get() as { n: number }).n, 0)
    db.close()
  } finally {
    t.cleanup()
  }
})
