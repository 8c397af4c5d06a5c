// RFC 9162 §2.1 Merkle tree against published vectors: the RFC 6962 reference leaves and the
// roots/proofs from transparency-dev/merkle (see test/fixtures/merkle-rfc6962.json for the source),
// plus the symbolic 7-leaf examples of RFC 9162 §2.1.5 (RFC 6962 §2.1.3).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../src/ledger/merkle.js'

interface Fixture {
  leaves: string[]
  roots: string[]
  emptyRoot: string
  inclusion: Array<{ leaf: number; size: number; proof: string[] }>
  consistency: Array<{ size1: number; size2: number; proof: string[] }>
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/merkle-rfc6962.json', import.meta.url), 'utf8')) as Fixture
const leaves = fx.leaves.map((h) => leafHash(hexToBytes(h)))
const hex = (hs: readonly Hash[]): string[] => hs.map(bytesToHex)

test('empty tree root is SHA-256 of the empty string', () => {
  assert.equal(bytesToHex(rootHash([])), fx.emptyRoot)
  assert.equal(bytesToHex(emptyRoot()), fx.emptyRoot)
})

test('root of every prefix of the reference leaves matches the published roots', () => {
  for (let n = 1; n <= 8; n++) assert.equal(bytesToHex(rootHash(leaves.slice(0, n))), fx.roots[n - 1], `size ${n}`)
})

test('inclusion proofs equal the published audit paths and verify', () => {
  for (const v of fx.inclusion) {
    const idx = v.leaf - 1
    const tree = leaves.slice(0, v.size)
    assert.deepEqual(hex(inclusionProof(idx, tree)), v.proof, `leaf ${idx} size ${v.size}`)
    const root = hexToBytes(fx.roots[v.size - 1]!)
    assert.ok(verifyInclusion(leaves[idx]!, idx, v.size, v.proof.map(hexToBytes), root))
    assert.ok(!verifyInclusion(leaves[idx]!, idx + 1, v.size, v.proof.map(hexToBytes), root), 'wrong index')
  }
})

test('consistency proofs equal the published proofs and verify', () => {
  for (const v of fx.consistency) {
    assert.deepEqual(hex(consistencyProof(v.size1, leaves.slice(0, v.size2))), v.proof, `${v.size1}->${v.size2}`)
    const r1 = hexToBytes(fx.roots[v.size1 - 1]!)
    const r2 = hexToBytes(fx.roots[v.size2 - 1]!)
    assert.ok(verifyConsistency(v.size1, v.size2, v.proof.map(hexToBytes), r1, r2))
    assert.ok(!verifyConsistency(v.size1, v.size2, v.proof.map(hexToBytes), r2, r1), 'swapped roots')
  }
})

test('RFC 9162 §2.1.5 examples on the 7-leaf tree (audit paths and PROOF(m, D[7]))', () => {
  const [a, b, c, d, e, f, j] = leaves.slice(0, 7) as [Hash, Hash, Hash, Hash, Hash, Hash, Hash]
  const g = nodeHash(a, b)
  const h = nodeHash(c, d)
  const i = nodeHash(e, f)
  const k = nodeHash(g, h)
  const l = nodeHash(i, j)
  const tree = leaves.slice(0, 7)
  assert.equal(bytesToHex(nodeHash(k, l)), fx.roots[6])
  assert.deepEqual(hex(inclusionProof(0, tree)), hex([b, h, l]), 'audit path d0')
  assert.deepEqual(hex(inclusionProof(3, tree)), hex([c, g, l]), 'audit path d3')
  assert.deepEqual(hex(inclusionProof(4, tree)), hex([f, j, k]), 'audit path d4')
  assert.deepEqual(hex(inclusionProof(6, tree)), hex([i, k]), 'audit path d6')
  assert.deepEqual(hex(consistencyProof(3, tree)), hex([c, d, g, l]), 'PROOF(3, D[7])')
  assert.deepEqual(hex(consistencyProof(4, tree)), hex([l]), 'PROOF(4, D[7])')
  assert.deepEqual(hex(consistencyProof(6, tree)), hex([i, j, k]), 'PROOF(6, D[7])')
  const root7 = hexToBytes(fx.roots[6]!)
  for (const m of [1, 2, 3, 4, 5, 6]) {
    assert.ok(verifyConsistency(m, 7, consistencyProof(m, tree), hexToBytes(fx.roots[m - 1]!), root7), `PROOF(${m}, D[7])`)
  }
})

test('verifiers reject the degenerate and malformed cases without throwing', () => {
  const root = hexToBytes(fx.roots[7]!)
  const proof = inclusionProof(1, leaves)
  assert.ok(!verifyInclusion(leaves[1]!, 8, 8, proof, root), 'index past size')
  assert.ok(!verifyInclusion(leaves[1]!, 1, 0, proof, root), 'size 0')
  assert.ok(!verifyInclusion(leaves[1]!, -1, 8, proof, root), 'negative index')
  assert.ok(!verifyInclusion(leaves[1]!, 1, 8, [...proof, new Uint8Array(32)], root), 'trailing hash')
  assert.ok(!verifyInclusion(leaves[1]!, 1, 8, [new Uint8Array(32), ...proof], root), 'preceding hash')
  assert.ok(!verifyInclusion(leaves[1]!, 1, 8, proof.slice(0, -1), root), 'removed hash')
  assert.ok(!verifyInclusion(leaves[1]!, 1, 8, [proof[0]!.subarray(0, 31), ...proof.slice(1)], root), 'short hash')
  assert.ok(!verifyInclusion(leaves[1]!, 1, 16, proof, root), 'size * 2')
  // Single-leaf tree: root == leaf hash, empty proof.
  assert.ok(verifyInclusion(leaves[0]!, 0, 1, [], leaves[0]!))
  // Consistency edge cases (transparency-dev TestVerifyConsistency).
  const r1 = hexToBytes(fx.roots[0]!)
  const r2 = hexToBytes(fx.roots[1]!)
  assert.ok(verifyConsistency(0, 0, [], r1, r1))
  assert.ok(verifyConsistency(0, 1, [], r1, r2), 'the empty tree is a prefix of every tree')
  assert.ok(verifyConsistency(1, 1, [], r2, r2))
  assert.ok(!verifyConsistency(1, 1, [], r1, r2), 'same size, different roots')
  assert.ok(!verifyConsistency(1, 0, [], r1, r2), 'time travel')
  assert.ok(!verifyConsistency(1, 2, [], r1, r2), 'empty proof')
  assert.ok(!verifyConsistency(1, 1, [r1], r1, r1), 'non-empty proof for equal sizes')
})
