// The real `commons init` CLI: writes genesis.json into the data dir and prints its path,
// joins an existing network with --genesis FILE, exit 1 on an invalid genesis, 2 on bad usage.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256Hex } from '../../src/identity/index.js'
import { networkIdOf, readGenesisFile } from '../../src/ledger/index.js'

const ids = Array.from({ length: 4 }, (_, i) => sha256Hex(`w${i}`))

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['bin/commons.js', ...args], { encoding: 'utf8', env: { ...process.env, COMMONS_HOME: '/nonexistent-commons-home' } })

test('commons init writes genesis.json, and --genesis joins an existing network', () => {
  const a = mkdtempSync(join(tmpdir(), 'commons-init-a-'))
  const b = mkdtempSync(join(tmpdir(), 'commons-init-b-'))
  try {
    const r = cli(['init', '--data-dir', a, '--network', 'testnet', '--witness', ids[0]!, '--witness', ids[1]!, '--witness', ids[2]!, '--witness', ids[3]!, '--epoch-ms', '2000', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { genesis: string; networkId: string; threshold: number }
    assert.equal(out.genesis, join(a, 'genesis.json'))
    assert.equal(out.threshold, 3)
    const g = readGenesisFile(out.genesis)
    assert.equal(g.epochMs, 2000)
    assert.equal(g.members.length, 1, 'this node is the first member')
    assert.equal(networkIdOf(g), out.networkId)
    // Join from the file.
    const j = cli(['init', '--data-dir', b, '--genesis', out.genesis])
    assert.equal(j.status, 0, j.stderr)
    assert.equal(j.stdout.trim(), join(b, 'genesis.json'))
    assert.equal(readFileSync(join(b, 'genesis.json'), 'utf8'), readFileSync(out.genesis, 'utf8'))
    // Bad usage: threshold too low is a failed genesis (exit 1), a malformed id is usage (exit 2).
    assert.equal(cli(['init', '--data-dir', b, '--force', '--witness', ids[0]!, '--witness', ids[1]!, '--witness', ids[2]!, '--threshold', '2']).status, 1)
    assert.equal(cli(['init', '--data-dir', b, '--witness', 'xyz']).status, 2)
  } finally {
    rmSync(a, { recursive: true, force: true })
    rmSync(b, { recursive: true, force: true })
  }
})
