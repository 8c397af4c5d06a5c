// Genesis: validation (k > 2n/3), network id = SHA-256 of the canonical form, and the real
// `commons init` CLI writing/joining a genesis (exit codes 0/1/2).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canonicalJson, sha256Hex } from '../../src/identity/index.js'
import { BadGenesisError, createGenesis, minThreshold, networkIdOf, originOf, parseGenesis, readGenesisFile } from '../../src/ledger/index.js'

const ids = Array.from({ length: 7 }, (_, i) => sha256Hex(`w${i}`))

test('threshold must be > 2n/3 and ≤ n', () => {
  assert.deepEqual([1, 2, 3, 4, 7].map(minThreshold), [1, 2, 3, 3, 5])
  const base = { network: 'net', created: 0, members: [], witnesses: ids.slice(0, 4), epochMs: 1000 }
  assert.equal(createGenesis(base).threshold, 3)
  assert.throws(() => createGenesis({ ...base, threshold: 2 }), BadGenesisError)
  assert.throws(() => createGenesis({ ...base, threshold: 5 }), BadGenesisError)
  assert.throws(() => createGenesis({ ...base, witnesses: [ids[0]!, ids[0]!] }), BadGenesisError)
  assert.throws(() => createGenesis({ ...base, network: 'Bad Name' }), BadGenesisError)
  assert.throws(() => parseGenesis({ ...createGenesis(base), extra: 1 }), BadGenesisError)
})

test('network id is SHA-256 of the canonical genesis and origin names it', () => {
  const g = createGenesis({ network: 'net', created: 5, members: [ids[0]!], witnesses: [ids[0]!], epochMs: 1000, params: { quorum: 0.5 } })
  assert.equal(networkIdOf(g), sha256Hex(canonicalJson(g)))
  assert.equal(originOf(g), `net/${networkIdOf(g)}`)
  assert.notEqual(networkIdOf({ ...g, created: 6 }), networkIdOf(g))
})

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
    // Plain re-run keeps the network.
    const again = cli(['init', '--data-dir', a, '--json'])
    assert.equal(again.status, 0, again.stderr)
    assert.equal((JSON.parse(again.stdout) as { networkId: string }).networkId, out.networkId)
    // Join from the file.
    const j = cli(['init', '--data-dir', b, '--genesis', out.genesis])
    assert.equal(j.status, 0, j.stderr)
    assert.equal(j.stdout.trim(), join(b, 'genesis.json'))
    assert.equal(readFileSync(join(b, 'genesis.json'), 'utf8'), readFileSync(out.genesis, 'utf8'))
    // A different genesis is refused without --force.
    const c = cli(['init', '--data-dir', a])
    assert.equal(c.status, 0)
    const other = cli(['init', '--data-dir', b, '--genesis', join(a, 'genesis.json')])
    assert.equal(other.status, 0, 'same genesis again is fine')
    // Bad usage: threshold too low is a failed genesis (exit 1), a malformed id is usage (exit 2).
    assert.equal(cli(['init', '--data-dir', b, '--force', '--witness', ids[0]!, '--witness', ids[1]!, '--witness', ids[2]!, '--threshold', '2']).status, 1)
    assert.equal(cli(['init', '--data-dir', b, '--witness', 'xyz']).status, 2)
    assert.equal(cli(['init', '--data-dir', b, '--genesis', join(a, 'missing.json')]).status, 1)
  } finally {
    rmSync(a, { recursive: true, force: true })
    rmSync(b, { recursive: true, force: true })
  }
})
