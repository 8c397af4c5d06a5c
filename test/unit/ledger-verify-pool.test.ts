// The verifier pool: threads run a plain-JavaScript bundle of the worker (no tsx in the threads),
// one pool serves chunks of different networks, results match inline verification, the first
// bad entry is named, and an idle shared pool does not keep a process alive.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createGenesis, networkIdOf, signAndEncodeEntry } from '../../src/ledger/index.js'
import { verifyChunk } from '../../src/ledger/verify-chunk.js'
import { EntryVerifierPool } from '../../src/ledger/verify-pool.js'
import { verifierWorkerUrl } from '../../src/ledger/verify-worker-bundle.js'
import { authorKeys, testGenesis } from './ledger-helpers.js'

const netA = networkIdOf(testGenesis())
const netB = networkIdOf(createGenesis({ ...testGenesis(), network: 'other' }))
const items = (network: string, n: number, seq0 = 1) =>
  Array.from({ length: n }, (_, i) => ({ index: i, bytes: signAndEncodeEntry({ network, kind: 'note', seq: seq0 + i, time: i, body: { text: `n${i}` } }, authorKeys[i % 3]!).bytes }))

test('verifier threads load a bundled .mjs from node_modules/.cache/commons, with no TypeScript left in it', () => {
  const url = verifierWorkerUrl()
  const path = fileURLToPath(url)
  assert.match(path, /node_modules\/\.cache\/commons\/verify-worker-[0-9a-f]{16}\.mjs$/)
  const code = readFileSync(path, 'utf8')
  assert.doesNotMatch(code, /from ["']\.\.?\//, 'relative imports were bundled in')
  assert.doesNotMatch(code, /tsx/)
})

test('one pool verifies chunks of two networks; results equal inline verification; a bad entry is named', async () => {
  const pool = new EntryVerifierPool(2)
  try {
    const a = items(netA, 50)
    const b = items(netB, 30)
    const tampered = items(netA, 20, 100).map((it) => ({ ...it, index: it.index + 1000 }))
    tampered[7] = { ...tampered[7]!, bytes: new TextEncoder().encode(new TextDecoder().decode(tampered[7]!.bytes).replace('"n7"', '"n8"')) }
    const [ra, rb, rt, wrongNet] = await Promise.all([pool.verify(netA, a), pool.verify(netB, b), pool.verify(netA, tampered), pool.verify(netB, a)])
    assert.deepEqual(ra, verifyChunk(a, netA))
    assert.equal(ra.ok, 50)
    assert.equal(rb.ok, 30)
    assert.equal(rt.ok, 7)
    assert.deepEqual(rt.error && { index: rt.error.index, code: rt.error.code }, { index: 1007, code: 'forged_signature' })
    assert.equal(wrongNet.ok, 0)
    assert.equal(wrongNet.error?.code, 'wrong_network')
    // A stored hash that does not match the bytes is caught too.
    const withHashes = a.slice(0, 5).map((it, i) => ({ ...it, hash: new Uint8Array(32).fill(i === 3 ? 1 : 0) }))
    const rh = await pool.verify(netA, withHashes)
    assert.equal(rh.ok, 0) // item 0's (zero) hash is already wrong
    assert.equal(rh.error?.code, 'hash_mismatch')
  } finally {
    await pool.close()
  }
  await assert.rejects(pool.verify(netA, []), /closed/)
})

test('a process that used the shared pool exits by itself (idle threads are unref\'d)', () => {
  const script = `
    const { sharedVerifierPool } = await import('./src/ledger/verify-pool.ts')
    const r = await sharedVerifierPool().verify('${netA}', [])
    console.log('done', r.ok)
  `
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'done 0')
})
