// The real `commons log` CLI processes over a real SQLite log: verify exits 0 on a clean log and 1
// naming the tampered entry index / checkpoint size; status, show and proof print JSON.
// Each CLI process loads the whole program (seconds of CPU on a shared 2-core box): keep them few.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../unit/ledger-helpers.js'
import { buildDataDir, cases, cli, tampered } from './log-fixtures.js'

test('commons log verify exits 0, or 1 naming the bad entry/checkpoint; status, show and proof', () => {
  const t = tempDir('commons-logcli-')
  try {
    const dir = join(t.dir, 'clean')
    mkdirSync(dir)
    buildDataDir(dir, 300)
    const ok = cli(dir, ['verify'])
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal((JSON.parse(ok.stdout) as { size: number }).size, 300)
    const status = JSON.parse(cli(dir, ['status']).stdout) as { size: number; finalSize: number; pending: number; convicted: unknown[] }
    assert.deepEqual([status.size, status.finalSize, status.pending, status.convicted], [300, 300, 0, []])
    const show = JSON.parse(cli(dir, ['show', '7']).stdout) as { index: number; entry: { seq: number; body: { text: string } } }
    assert.deepEqual([show.entry.seq, show.entry.body.text], [4, 'note 4'])
    const proof = JSON.parse(cli(dir, ['proof', '123']).stdout) as { verified: boolean; final: boolean; size: number; proof: string[] }
    assert.deepEqual([proof.verified, proof.final, proof.size, proof.proof.length], [true, true, 300, 9])
    for (const name of ['body', 'cosignature']) {
      const c = cases.find((x) => x.name === name)!
      const r = cli(tampered(dir, c.name, c.edit), ['verify'])
      assert.equal(r.status, 1, `${c.name}: ${r.stdout} ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^error: ${c.kind} ${c.index}: ${c.code}`, 'm'))
    }
  } finally {
    t.cleanup()
  }
})
