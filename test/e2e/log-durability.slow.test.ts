// kill -9 at an arbitrary moment loses nothing acknowledged: a child appends batches and prints
// "ack <size>" after each durable append; we SIGKILL it mid-stream, reopen the log (which
// recomputes the tree on open) and find at least every acknowledged entry, intact.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { LogStore, verifyLog } from '../../src/ledger/index.js'
import { tempDir, testGenesis } from '../unit/ledger-helpers.js'

test('SIGKILL while appending loses no acknowledged entry and leaves a consistent log', async () => {
  const t = tempDir('commons-kill-')
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/log-durability-writer.ts', t.dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let acked = 0
    let buffered = ''
    const killedAt = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const l of lines) acked = Math.max(acked, Number(l.split(' ')[1]))
        // Kill once a fair number of batches are durable, while more are being written.
        if (acked >= 400 && child.exitCode === null) {
          child.kill('SIGKILL')
          resolve(acked)
        }
      })
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? undefined : reject(new Error(`writer exited early: ${code}`))))
    })
    await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(null)))
    const genesis = testGenesis()
    const store = LogStore.open(join(t.dir, 'commons.db'), { genesis })
    assert.ok(store.size() >= killedAt, `reopened size ${store.size()} < acknowledged ${killedAt}`)
    assert.equal(store.size() % 20, 0, 'batches are atomic')
    store.close()
    const report = await verifyLog(join(t.dir, 'commons.db'), genesis, { threads: 0 })
    assert.equal(report.ok, true, JSON.stringify(report.failure))
  } finally {
    t.cleanup()
  }
})
