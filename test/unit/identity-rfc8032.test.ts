// RFC 8032 §7.1 Ed25519 test vectors against our node:crypto signer/verifier (src/identity) AND
// @noble/curves as an independent implementation: both must reproduce the published signatures.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex, hexToBytes, keyPairFromSecret, publicKeyOf, sign, verify } from '../../src/identity/index.js'

interface Vector {
  name: string
  secretKey: string
  publicKey: string
  message: string
  signature: string
}
const { vectors } = JSON.parse(readFileSync(new URL('../fixtures/rfc8032-ed25519.json', import.meta.url), 'utf8')) as {
  vectors: Vector[]
}

for (const v of vectors) {
  test(`RFC 8032 ${v.name}: src/identity derives the key, signs and verifies`, () => {
    const secret = hexToBytes(v.secretKey)
    const msg = hexToBytes(v.message)
    assert.equal(bytesToHex(publicKeyOf(secret)), v.publicKey)
    assert.equal(bytesToHex(keyPairFromSecret(secret).publicKey), v.publicKey)
    assert.equal(bytesToHex(sign(msg, secret)), v.signature)
    assert.ok(verify(hexToBytes(v.signature), msg, hexToBytes(v.publicKey)))
    const bad = hexToBytes(v.signature)
    bad[0]! ^= 1
    assert.ok(!verify(bad, msg, hexToBytes(v.publicKey)), 'flipped signature bit')
    const other = new Uint8Array([...msg, 0])
    assert.ok(!verify(hexToBytes(v.signature), other, hexToBytes(v.publicKey)), 'other message')
  })

  test(`RFC 8032 ${v.name}: @noble/curves agrees`, () => {
    const secret = hexToBytes(v.secretKey)
    const msg = hexToBytes(v.message)
    assert.equal(bytesToHex(ed25519.getPublicKey(secret)), v.publicKey)
    assert.equal(bytesToHex(ed25519.sign(msg, secret)), v.signature)
    assert.ok(ed25519.verify(hexToBytes(v.signature), msg, hexToBytes(v.publicKey)))
  })
}

test('signatures cross-verify between node:crypto and @noble/curves on fresh keys', () => {
  const secret = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff)
  const pub = publicKeyOf(secret)
  const msg = new TextEncoder().encode('commons cross-check')
  assert.ok(ed25519.verify(sign(msg, secret), msg, pub))
  assert.ok(verify(ed25519.sign(msg, secret), msg, pub))
})

test('verify never throws on malformed keys or signatures', () => {
  const msg = new Uint8Array(3)
  assert.equal(verify(new Uint8Array(63), msg, new Uint8Array(32)), false)
  assert.equal(verify(new Uint8Array(64), msg, new Uint8Array(31)), false)
  assert.equal(verify(new Uint8Array(64), msg, new Uint8Array(32).fill(0xff)), false)
})
