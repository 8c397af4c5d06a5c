// Log audit over a real SQLite log: tampering with a stored entry body, signature, entry order,
// stored hash, tree hash, checkpoint root or cosignature is caught at the right entry index or
// checkpoint size; the worker-thread pool reports the same. The real CLI runs in log-cli.slow.test.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { LogStore, storedHashIndex, verifyLog } from '../../src/ledger/index.js'
import { authorKeys, finalize, notes, tempDir } from '../unit/ledger-helpers.js'
import { buildDataDir, cases, flipHexChar, genesis, tampered } from './log-fixtures.js'

/** A copy of the log at `path` (beside it) with one signature character of entry `index` flipped. */
function forgedCopy(path: string, index: number): string {
  const bad = join(dirname(path), 'bad.db')
  copyFileSync(path, bad)
  const db = new Database(bad)
  const d = (db.prepare('SELECT data FROM log_entries WHERE idx = ?').pluck().get(index) as Buffer).toString()
  db.prepare('UPDATE log_entries SET data = ? WHERE idx = ?').run(Buffer.from(flipHexChar(d, d.indexOf('"sig":"') + 9)), index)
  db.close()
  return bad
}

test('tampering with any stored part of the log is caught at the right index', async () => {
  const t = tempDir('commons-logtamper-')
  try {
    const dir = join(t.dir, 'clean')
    mkdirSync(dir)
    buildDataDir(dir, 300)
    const clean = await verifyLog(join(dir, 'commons.db'), genesis, { threads: 0 })
    assert.deepEqual([clean.ok, clean.size, clean.finalSize, clean.checkpoints], [true, 300, 300, 3])
    for (const c of cases) {
      const d = tampered(dir, c.name, c.edit)
      const r = await verifyLog(join(d, 'commons.db'), genesis, { threads: 0 })
      assert.equal(r.ok, false, c.name)
      assert.deepEqual([r.failure?.kind, r.failure?.index, r.failure?.code], [c.kind, c.index, c.code], `${c.name}: ${r.failure?.message}`)
    }
  } finally {
    t.cleanup()
  }
})

test('verifyLog over worker threads names a bad entry deep in a later chunk', async () => {
  const t = tempDir('commons-logpool-')
  try {
    buildDataDir(t.dir, 2600)
    const path = join(t.dir, 'commons.db')
    const clean = await verifyLog(path, genesis, { threads: 2, chunkSize: 512 })
    assert.equal(clean.ok, true, JSON.stringify(clean.failure))
    assert.equal(clean.size, 2600)
    const bad = forgedCopy(path, 2345)
    const r = await verifyLog(bad, genesis, { threads: 2, chunkSize: 512 })
    assert.equal(r.ok, false)
    assert.deepEqual([r.failure?.kind, r.failure?.index, r.failure?.code], ['entry', 2345, 'forged_signature'])
    assert.equal(r.size, 2345, 'everything before it checked')
  } finally {
    t.cleanup()
  }
})

test('a stored tree hash above a range’s level is checked by the caller and named at the same entry as inside a range', async () => {
  const t = tempDir('commons-logupper-')
  try {
    buildDataDir(t.dir, 300)
    const path = join(t.dir, 'commons.db')
    const clean = await Promise.all([4, 64, 4096].map((chunkSize) => verifyLog(path, genesis, { threads: 0, chunkSize })))
    assert.deepEqual(new Set(clean.map((r) => `${r.ok} ${r.size} ${r.root}`)).size, 1, 'same verdict and root whatever the range size')
    assert.equal(clean[0]!.ok, true)
    // The level-5 subtree over entries 32..63 is completed by entry 63.
    const bad = join(t.dir, 'bad.db')
    copyFileSync(path, bad)
    const db = new Database(bad)
    db.prepare('UPDATE log_tree SET hash = ? WHERE id = ?').run(Buffer.alloc(32, 9), storedHashIndex(5, 1))
    db.close()
    for (const chunkSize of [4, 32, 4096]) {
      const r = await verifyLog(bad, genesis, { threads: 0, chunkSize })
      assert.deepEqual([r.ok, r.failure?.index, r.failure?.code], [false, 63, 'tree_mismatch'], `range ${chunkSize}`)
    }
  } finally {
    t.cleanup()
  }
})

test('verify while the log grows judges the log as it was when verify began; a file replaced at the same path is read afresh', async () => {
  const t = tempDir('commons-loggrow-')
  try {
    buildDataDir(t.dir, 2600)
    const path = join(t.dir, 'commons.db')
    const store = LogStore.open(path, { genesis })
    const running = verifyLog(path, genesis, { threads: 2, chunkSize: 256 })
    // Appends (entries, tree hashes, a final checkpoint) land while the ranges are being checked.
    store.append(notes(genesis, 40, authorKeys[2]!))
    finalize(store, 3, 900)
    const r = await running
    assert.equal(r.ok, true, JSON.stringify(r.failure))
    assert.equal(r.size, 2600)
    store.close()
    assert.equal((await verifyLog(path, genesis, { threads: 2, chunkSize: 256 })).size, 2640)

    // The same path now holds a tampered copy: the shared verifier threads must not read the old file.
    renameSync(forgedCopy(path, 1500), path)
    const again = await verifyLog(path, genesis, { threads: 2, chunkSize: 256 })
    assert.deepEqual([again.ok, again.failure?.index], [false, 1500])
  } finally {
    t.cleanup()
  }
})
