// Genesis: validation (k > 2n/3) and network id = SHA-256 of the canonical form.
// The real `commons init` CLI is tested in test/e2e/log-init.slow.test.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalJson, sha256Hex } from '../../src/identity/index.js'
import { BadGenesisError, createGenesis, minThreshold, networkIdOf, originOf, parseGenesis} from '../../src/ledger/index.js'

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

