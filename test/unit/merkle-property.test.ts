// Property tests of the RFC 9162 tree on random sizes up to 10k leaves: every inclusion and
// consistency proof verifies, and flipping any single bit of proof, root or leaf makes it fail.
// The stored (tlog-layout) tree must produce byte-identical roots and proofs. Seeded PRNG, so a
// failure reproduces.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../src/ledger/merkle.js'
import {
  MemoryHashStore,
  TreeAppender,
  consistencyProofFromStore,
  inclusionProofFromStore,
  storedHashCount,
  treeHashFromStore,
} from '../../src/ledger/tree.js'
import { seededRandom } from '../helpers/seeded-random.js'

const rand = seededRandom(20261125)
const int = (n: number): number => Math.floor(rand() * n)

const MAX = 10_000
const leaves: Hash[] = Array.from({ length: MAX }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)))
const store = new MemoryHashStore()
const appender = TreeAppender.empty()
const roots: Hash[] = [rootHash([])]
for (const l of leaves) {
  store.write(appender.append(l))
  roots.push(appender.root())
}

function flipped(h: Hash): Hash {
  const c = new Uint8Array(h)
  const bit = int(256)
  c[bit >> 3]! ^= 1 << (bit & 7)
  return c
}

const sizes = [1, 2, 3, 7, 8, 9, 255, 256, 257, 1023, 4097, MAX, ...Array.from({ length: 8 }, () => 1 + int(MAX))]

test('stored tree: hash count and roots match the in-memory RFC 9162 root', () => {
  assert.equal(store.hashes.length, storedHashCount(MAX))
  for (const n of sizes) {
    assert.equal(bytesToHex(roots[n]!), bytesToHex(rootHash(leaves.slice(0, n))), `appender root ${n}`)
    assert.equal(bytesToHex(treeHashFromStore(n, store)), bytesToHex(roots[n]!), `stored root ${n}`)
  }
  // Resuming from the store continues the same tree.
  const resumed = TreeAppender.fromStore(4097, store)
  for (let i = 4097; i < 4200; i++) resumed.append(leaves[i]!)
  assert.equal(bytesToHex(resumed.root()), bytesToHex(roots[4200]!))
})

test('every inclusion proof verifies; any bit flip or wrong index fails', () => {
  for (const n of sizes) {
    for (let t = 0; t < 6; t++) {
      const i = int(n)
      const proof = inclusionProofFromStore(i, n, store)
      assert.ok(verifyInclusion(leaves[i]!, i, n, proof, roots[n]!), `leaf ${i} of ${n}`)
      if (proof.length > 0) {
        const p = proof.map((x) => x)
        const at = int(p.length)
        p[at] = flipped(p[at]!)
        assert.ok(!verifyInclusion(leaves[i]!, i, n, p, roots[n]!), `flipped proof[${at}] leaf ${i} of ${n}`)
      }
      assert.ok(!verifyInclusion(flipped(leaves[i]!), i, n, proof, roots[n]!), 'flipped leaf')
      assert.ok(!verifyInclusion(leaves[i]!, i, n, proof, flipped(roots[n]!)), 'flipped root')
      if (n > 1) assert.ok(!verifyInclusion(leaves[i]!, (i + 1) % n, n, proof, roots[n]!), 'other index')
    }
  }
})

test('every consistency proof verifies; any bit flip or wrong size fails', () => {
  for (const n of sizes) {
    for (let t = 0; t < 6; t++) {
      const m = 1 + int(n)
      const proof = consistencyProofFromStore(m, n, store)
      assert.ok(verifyConsistency(m, n, proof, roots[m]!, roots[n]!), `${m} -> ${n}`)
      if (m === n) continue
      const p = [...proof]
      const at = int(p.length)
      p[at] = flipped(p[at]!)
      assert.ok(!verifyConsistency(m, n, p, roots[m]!, roots[n]!), `flipped proof[${at}] ${m} -> ${n}`)
      assert.ok(!verifyConsistency(m, n, proof, flipped(roots[m]!), roots[n]!), 'flipped old root')
      assert.ok(!verifyConsistency(m, n, proof, roots[m]!, flipped(roots[n]!)), 'flipped new root')
      assert.ok(!verifyConsistency(m, n, proof.slice(0, -1), roots[m]!, roots[n]!), 'truncated')
    }
  }
})

test('stored-tree proofs are byte-identical to the in-memory RFC 9162 proofs', () => {
  for (const n of [5, 100, 1000, 4097]) {
    const tree = leaves.slice(0, n)
    for (let t = 0; t < 4; t++) {
      const i = int(n)
      assert.deepEqual(inclusionProofFromStore(i, n, store).map(bytesToHex), inclusionProof(i, tree).map(bytesToHex))
      const m = 1 + int(n)
      assert.deepEqual(consistencyProofFromStore(m, n, store).map(bytesToHex), consistencyProof(m, tree).map(bytesToHex))
    }
  }
})
