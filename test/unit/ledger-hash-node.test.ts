// The OpenSSL RFC 9162 hashes (hash-node.ts) equal merkle.ts's @noble ones, and a TreeAppender
// driven by them reproduces merkle.ts's roots and the same stored hashes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { leafHashNode, nodeHashNode } from '../../src/ledger/hash-node.js'
import { leafHash, nodeHash, rootHash } from '../../src/ledger/merkle.js'
import { MemoryHashStore, TreeAppender, treeHashFromStore } from '../../src/ledger/tree.js'
import { bytesToHex } from '../../src/identity/index.js'
import { seededRandom } from '../helpers/seeded-random.js'

test('leafHashNode and nodeHashNode equal merkle.ts leafHash and nodeHash', () => {
  const rand = seededRandom(9)
  for (let n = 0; n < 200; n++) {
    const data = Uint8Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256))
    assert.equal(bytesToHex(leafHashNode(data)), bytesToHex(leafHash(data)))
    const l = leafHash(data)
    const r = leafHash(data.subarray(1))
    assert.equal(bytesToHex(nodeHashNode(l, r)), bytesToHex(nodeHash(l, r)))
  }
})

test('TreeAppender with the OpenSSL hasher: same roots at every size and same stored hashes', () => {
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)))
  const fast = TreeAppender.empty(nodeHashNode)
  const slow = TreeAppender.empty()
  const storeFast = new MemoryHashStore()
  const storeSlow = new MemoryHashStore()
  assert.equal(bytesToHex(fast.root()), bytesToHex(rootHash([])))
  for (let i = 0; i < leaves.length; i++) {
    storeFast.write(fast.append(leaves[i]!))
    storeSlow.write(slow.append(leaves[i]!))
    assert.equal(bytesToHex(fast.root()), bytesToHex(rootHash(leaves.slice(0, i + 1))), `size ${i + 1}`)
  }
  assert.deepEqual(storeFast.hashes.map(bytesToHex), storeSlow.hashes.map(bytesToHex))
  const resumed = TreeAppender.fromStore(137, storeFast, nodeHashNode)
  assert.equal(bytesToHex(resumed.clone().root()), bytesToHex(treeHashFromStore(137, storeFast)))
})
