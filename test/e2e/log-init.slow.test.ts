// The real `commons init` CLI: writes genesis.json into the data dir and prints its path,
// joins an existing network with --genesis FILE, exit 1 on an invalid genesis, 2 on bad usage.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

test('commons init admits the demo model by default, --admit adds manifests, --no-demo-model leaves it out', () => {
  const dirs = Array.from({ length: 3 }, (_, i) => mkdtempSync(join(tmpdir(), `commons-init-models-${i}-`)))
  try {
    const modelsOf = (dataDir: string) => ((readGenesisFile(join(dataDir, 'genesis.json')).params as { models?: Array<{ name: string; file: { sha256: string } }> }).models ?? [])
    const demo = JSON.parse(readFileSync('models/commons-demo.manifest.json', 'utf8')) as { name: string; file: { sha256: string } }

    const plain = cli(['init', '--data-dir', dirs[0]!, '--json'])
    assert.equal(plain.status, 0, plain.stderr)
    assert.deepEqual((JSON.parse(plain.stdout) as { models: string[] }).models, [demo.name])
    assert.equal(modelsOf(dirs[0]!)[0]!.file.sha256, demo.file.sha256)

    // Another manifest (the demo's, renamed and re-hashed) is admitted beside the demo.
    const other = join(dirs[1]!, 'other.manifest.json')
    writeFileSync(other, JSON.stringify({ ...demo, name: 'other-model', file: { ...demo.file, sha256: 'ab'.repeat(32) } }))
    const both = cli(['init', '--data-dir', dirs[1]!, '--admit', other, '--json'])
    assert.equal(both.status, 0, both.stderr)
    assert.deepEqual(modelsOf(dirs[1]!).map((m) => m.name).sort(), [demo.name, 'other-model'].sort())

    const none = cli(['init', '--data-dir', dirs[2]!, '--no-demo-model', '--json'])
    assert.equal(none.status, 0, none.stderr)
    assert.deepEqual(modelsOf(dirs[2]!), [])

    // A file that is not a manifest: exit 2, one line naming it, and no genesis written.
    const bad = join(dirs[2]!, 'bad.json')
    writeFileSync(bad, '{"name": 1}')
    rmSync(join(dirs[2]!, 'genesis.json'))
    const refused = cli(['init', '--data-dir', dirs[2]!, '--admit', bad])
    assert.equal(refused.status, 2)
    assert.match(refused.stderr.trim(), /^.*--admit .*bad\.json: not a valid model manifest/)
    assert.equal(refused.stderr.trim().split('\n').length, 1)
    assert.equal(existsSync(join(dirs[2]!, 'genesis.json')), false)

    // Admissions on a network that already exists are not silently dropped: exit 1 unless --force.
    const again = cli(['init', '--data-dir', dirs[1]!, '--admit', other])
    assert.equal(again.status, 1, again.stderr)
    assert.match(again.stderr, /use --force/)
    // Joining an existing network's genesis takes no admissions of its own: exit 2.
    const joined = cli(['init', '--data-dir', dirs[2]!, '--genesis', join(dirs[0]!, 'genesis.json'), '--no-demo-model'])
    assert.equal(joined.status, 2)
    assert.match(joined.stderr, /--no-demo-model apply to a new network/)
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
})
