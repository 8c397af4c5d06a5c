// Shared fixtures of the log e2e tests: a data dir with a real SQLite log (two authors, final
// checkpoints every 100 entries), ways to tamper with a copy of it, and the CLI runner.
import { spawnSync } from 'node:child_process'
import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { LogStore } from '../../src/ledger/index.js'
import { authorKeys, finalize, notes, testGenesis } from '../unit/ledger-helpers.js'

export const genesis = testGenesis()

/** A data dir with `count` entries from two authors, final checkpoints every 100 entries. */
export function buildDataDir(dir: string, count: number): void {
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis))
  const store = LogStore.open(join(dir, 'commons.db'), { genesis })
  const a = notes(genesis, Math.ceil(count / 2), authorKeys[0]!)
  const b = notes(genesis, Math.floor(count / 2), authorKeys[1]!)
  const all = a.flatMap((x, i) => (b[i] ? [x, b[i]!] : [x]))
  for (let i = 0; i < all.length; i += 100) {
    store.append(all.slice(i, i + 100))
    finalize(store, 3, i / 100)
  }
  store.close()
}

export const cli = (dir: string, args: string[]) =>
  spawnSync(process.execPath, ['bin/commons.js', 'log', ...args, '--data-dir', dir, '--json'], { encoding: 'utf8' })

export function tampered(src: string, name: string, edit: (db: Database.Database) => void): string {
  const t = join(src, '..', name)
  cpSync(src, t, { recursive: true })
  const db = new Database(join(t, 'commons.db'))
  edit(db)
  db.close()
  return t
}

export const flipHexChar = (s: string, at: number): string => s.slice(0, at) + (s[at] === 'a' ? 'b' : 'a') + s.slice(at + 1)

/** The stored note of checkpoint `size` with its last cosignature line dropped (short of k). */
function noteShortOfK(db: Database.Database, size: number): string {
  const lines = (db.prepare('SELECT note FROM log_checkpoints WHERE size = ?').pluck().get(size) as string).split('\n')
  return [...lines.slice(0, -2), ''].join('\n')
}

const FAKE_ROOT = Buffer.alloc(32, 7)

/** The stored note of checkpoint `size` claiming FAKE_ROOT (its cosignatures then no longer match). */
function noteWithFakeRoot(db: Database.Database, size: number): string {
  const row = db.prepare('SELECT root, note FROM log_checkpoints WHERE size = ?').get(size) as { root: Buffer; note: string }
  return row.note.replace(row.root.toString('base64'), FAKE_ROOT.toString('base64'))
}

/** Makes `note` the latest final checkpoint kept in log_meta. */
function setLatest(db: Database.Database, note: string): void {
  db.prepare("INSERT INTO log_meta (key, value) VALUES ('latest_checkpoint', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(note)
}

export const cases: Array<{ name: string; edit: (db: Database.Database) => void; kind: 'entry' | 'checkpoint'; index: number; code: string }> = [
  {
    name: 'body',
    edit: (db) => {
      const d = (db.prepare('SELECT data FROM log_entries WHERE idx = 151').pluck().get() as Buffer).toString()
      db.prepare('UPDATE log_entries SET data = ? WHERE idx = 151').run(Buffer.from(d.replace('"note 76"', '"note 77"')))
    },
    kind: 'entry',
    index: 151,
    code: 'forged_signature',
  },
  {
    name: 'signature',
    edit: (db) => {
      const d = (db.prepare('SELECT data FROM log_entries WHERE idx = 42').pluck().get() as Buffer).toString()
      db.prepare('UPDATE log_entries SET data = ? WHERE idx = 42').run(Buffer.from(flipHexChar(d, d.indexOf('"sig":"') + 20)))
    },
    kind: 'entry',
    index: 42,
    code: 'forged_signature',
  },
  {
    name: 'order',
    edit: (db) => {
      db.prepare('UPDATE log_entries SET idx = -1 WHERE idx = 230').run()
      db.prepare('UPDATE log_entries SET idx = 230 WHERE idx = 231').run()
      db.prepare('UPDATE log_entries SET idx = 231 WHERE idx = -1').run()
    },
    kind: 'entry',
    index: 230,
    code: 'tree_mismatch',
  },
  {
    name: 'stored-hash',
    edit: (db) => {
      db.prepare('UPDATE log_entries SET hash = ? WHERE idx = 9').run(Buffer.alloc(32, 1))
    },
    kind: 'entry',
    index: 9,
    code: 'hash_mismatch',
  },
  {
    name: 'tree',
    edit: (db) => {
      db.prepare('UPDATE log_tree SET hash = ? WHERE id = 500').run(Buffer.alloc(32, 2))
    },
    kind: 'entry',
    index: 253,
    code: 'tree_mismatch',
  },
  {
    name: 'checkpoint-root',
    edit: (db) => {
      db.prepare('UPDATE log_checkpoints SET root = ?, note = ? WHERE size = 200').run(FAKE_ROOT, noteWithFakeRoot(db, 200))
    },
    kind: 'checkpoint',
    index: 200,
    code: 'root_mismatch',
  },
  {
    name: 'cosignature',
    edit: (db) => {
      const note = db.prepare('SELECT note FROM log_checkpoints WHERE size = 100').pluck().get() as string
      const at = note.lastIndexOf(' ') + 30
      db.prepare('UPDATE log_checkpoints SET note = ? WHERE size = 100').run(note.slice(0, at) + (note[at] === 'A' ? 'B' : 'A') + note.slice(at + 1))
    },
    kind: 'checkpoint',
    index: 100,
    code: 'bad_cosignature',
  },
  {
    name: 'missing-cosignature',
    edit: (db) => {
      db.prepare('UPDATE log_checkpoints SET note = ? WHERE size = 300').run(noteShortOfK(db, 300))
    },
    kind: 'checkpoint',
    index: 300,
    code: 'not_final',
  },
  {
    // The latest final checkpoint kept in log_meta (an epoch that added no entry), short of k cosignatures.
    name: 'latest-checkpoint',
    edit: (db) => {
      setLatest(db, noteShortOfK(db, 300))
    },
    kind: 'checkpoint',
    index: 300,
    code: 'not_final',
  },
  {
    name: 'latest-checkpoint-root',
    edit: (db) => {
      setLatest(db, noteWithFakeRoot(db, 200))
    },
    kind: 'checkpoint',
    index: 200,
    code: 'root_mismatch',
  },
]

