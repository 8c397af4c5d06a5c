// Gateway receipts live in the node's one database (commons.db) under the store's migrations;
// an older data dir's separate receipts.db is imported once, an unreadable one ignored.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { bytesToHex, generateKeyPair } from '../../src/identity/index.js'
import { receiptId, signReceipt, verifyReceiptSignature, type SignedReceipt } from '../../src/p2p/receipt.js'
import { ReceiptStore, importLegacyReceipts, RECEIPTS_COMPONENT } from '../../src/scheduler/receipts.js'
import { DB_FILE, migrate, openDatabase, schemaVersion } from '../../src/store/index.js'
import { fakeParams } from './swarm-fakes.js'
import { tempDir } from './ledger-helpers.js'

const worker = generateKeyPair()
const gateway = generateKeyPair()

function receipt(jobId: string): SignedReceipt {
  return signReceipt({
    jobId, worker: bytesToHex(worker.publicKey), gateway: bytesToHex(gateway.publicKey), model: { name: 'fake', sha256: 'ab'.repeat(32) },
    params: { ...fakeParams(), stop: [] }, promptHash: 'cd'.repeat(32), promptTokens: 3, resumedTokens: 0, outputHash: 'ef'.repeat(32), completionTokens: 2,
    logprobs: [-0.5, -0.25], finishReason: 'length', timings: { queuedMs: 0, timeToFirstTokenMs: 1, decodeMs: 2 }, issuedAt: 1_700_000_000_000,
  }, worker)
}

/** Log lines written by a pino logger, parsed. */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) })
  return { logger, lines }
}

/** A receipts.db as older nodes wrote it (its own file, same table). */
function writeLegacy(path: string, receipts: readonly SignedReceipt[]): void {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.exec(`CREATE TABLE job_receipts (id TEXT PRIMARY KEY, job_id TEXT NOT NULL, worker TEXT NOT NULL, model_sha256 TEXT NOT NULL,
    completion_tokens INTEGER NOT NULL, stored_at INTEGER NOT NULL, signed_json TEXT NOT NULL)`)
  const insert = db.prepare('INSERT INTO job_receipts VALUES (?, ?, ?, ?, ?, ?, ?)')
  receipts.forEach((r, i) => insert.run(receiptId(r), r.receipt.jobId, r.receipt.worker, r.receipt.model.sha256, r.receipt.completionTokens, 1000 + i, JSON.stringify(r)))
  db.close()
}

test('receipts are a migrated table of the node database, next to other components, and survive reopening', () => {
  const t = tempDir('commons-receipts-')
  try {
    const path = join(t.dir, DB_FILE)
    // Another component already owns tables in the same file (as the log does).
    const other = openDatabase(path)
    migrate(other, 'other', [{ version: 1, name: 'x', up: (db) => db.exec('CREATE TABLE other_x (v)') }])
    const store = new ReceiptStore(other)
    assert.equal(schemaVersion(other, RECEIPTS_COMPONENT), 1)
    const r = receipt('job-1')
    store.add(receiptId(r), r, 5)
    store.add(receiptId(r), r, 6) // idempotent on its id
    store.close() // a handed-in handle stays open
    assert.equal((other.prepare('SELECT COUNT(*) AS n FROM other_x').get() as { n: number }).n, 0)
    other.close()

    const reopened = new ReceiptStore(path)
    assert.equal(reopened.count(), 1)
    const got = reopened.get(receiptId(r))
    assert.equal(got?.jobId, 'job-1')
    assert.equal(got?.storedAt, 5)
    assert.ok(got !== undefined && verifyReceiptSignature(got.signed), 'stored verbatim: the signature still verifies')
    assert.deepEqual(reopened.recent(10).map((x) => x.id), [receiptId(r)])
    reopened.close()
  } finally {
    t.cleanup()
  }
})

test("an older data dir's receipts.db is imported once into the node database and renamed, with a log line", () => {
  const t = tempDir('commons-receipts-')
  try {
    const legacy = join(t.dir, 'receipts.db')
    const old = [receipt('old-1'), receipt('old-2')]
    writeLegacy(legacy, old)
    const store = new ReceiptStore(join(t.dir, DB_FILE))
    const kept = receipt('new-1')
    store.add(receiptId(kept), kept)
    store.add(receiptId(old[0]!), old[0]!) // already here: kept, not duplicated
    const { logger, lines } = capturingLogger()
    assert.equal(importLegacyReceipts(store, legacy, logger), 1)
    assert.equal(store.count(), 3)
    for (const r of old) assert.equal(store.get(receiptId(r))?.jobId, r.receipt.jobId)
    assert.equal(existsSync(legacy), false)
    assert.equal(existsSync(`${legacy}.imported`), true)
    assert.ok(lines.some((l) => l.imported === 1 && String(l.msg).includes('imported receipts')), JSON.stringify(lines))
    // Second start: nothing left to import, no log line.
    assert.equal(importLegacyReceipts(store, legacy, logger), 0)
    assert.equal(lines.length, 1)
    store.close()
  } finally {
    t.cleanup()
  }
})

test('an unreadable receipts.db is ignored with a warning and left in place', () => {
  const t = tempDir('commons-receipts-')
  try {
    const legacy = join(t.dir, 'receipts.db')
    writeFileSync(legacy, 'this is not a database, just some bytes that are long enough to have a header'.repeat(4))
    const store = new ReceiptStore(join(t.dir, DB_FILE))
    const { logger, lines } = capturingLogger()
    assert.equal(importLegacyReceipts(store, legacy, logger), 0)
    assert.equal(store.count(), 0)
    assert.equal(existsSync(legacy), true)
    assert.equal(lines[0]?.level, 40, 'warn')
    // The store still works after the failed import (the attachment was undone).
    const r = receipt('after')
    store.add(receiptId(r), r)
    assert.equal(store.count(), 1)
    store.close()
  } finally {
    t.cleanup()
  }
})
