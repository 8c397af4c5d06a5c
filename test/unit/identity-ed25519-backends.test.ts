// Ed25519 backends: libsodium (sodium-native) and the OpenSSL fallback must accept exactly the same
// signatures — RFC 8032 §7.1 vectors, and the edge cases where plain OpenSSL and libsodium differ
// (small-order keys and R, non-canonical S), which would otherwise split the log between nodes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, publicKeyOf, sign } from '../../src/identity/index.js'
import { ed25519Backend, verify, verifyOpenssl, verifySodium } from '../../src/identity/ed25519.js'
import { hasSmallOrder, isCanonicalPoint, isCanonicalScalar } from '../../src/identity/ed25519-strict.js'

interface Vector {
  name: string
  secretKey: string
  publicKey: string
  message: string
  signature: string
}
const { vectors } = JSON.parse(readFileSync(new URL('../fixtures/rfc8032-ed25519.json', import.meta.url), 'utf8')) as { vectors: Vector[] }

const L = 2n ** 252n + 27742317777372353535851937790883648493n
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
/** OpenSSL with none of our checks: what node:crypto alone would accept. */
const plainOpenssl = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean =>
  cryptoVerify(null, msg, createPublicKey({ key: Buffer.concat([SPKI, pk]), format: 'der', type: 'spki' }), sig)

const leToBig = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n)
const bigToLe = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))

const backends: Array<[string, (s: Uint8Array, m: Uint8Array, k: Uint8Array) => boolean]> = [
  ['openssl+strict', verifyOpenssl],
  ...(verifySodium === undefined ? [] : ([['libsodium', verifySodium]] as Array<[string, typeof verifyOpenssl]>)),
]

test('libsodium is the backend on this platform (sodium-native ships linux-x64 prebuilds)', () => {
  assert.equal(ed25519Backend, 'libsodium')
  assert.ok(verifySodium !== undefined)
})

for (const v of vectors) {
  test(`RFC 8032 ${v.name}: every backend verifies the vector and rejects a flipped bit`, () => {
    const sig = hexToBytes(v.signature)
    const msg = hexToBytes(v.message)
    const pk = hexToBytes(v.publicKey)
    assert.equal(bytesToHex(sign(msg, hexToBytes(v.secretKey))), v.signature)
    for (const [name, fn] of backends) {
      assert.equal(fn(sig, msg, pk), true, name)
      const bad = sig.slice()
      bad[40]! ^= 0x10
      assert.equal(fn(bad, msg, pk), false, name)
    }
  })
}

test('small-order public key with R = identity, S = 0: plain OpenSSL accepts, both our backends refuse', () => {
  const identity = new Uint8Array(32)
  identity[0] = 1
  // The order-8 point from libsodium's blocklist: [k]A = identity when k ≡ 0 (mod 8).
  const order8 = hexToBytes('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05')
  const sig = new Uint8Array(64)
  sig.set(identity, 0)
  for (const pk of [identity, order8]) {
    let msg: Uint8Array | undefined
    for (let i = 0; i < 256 && msg === undefined; i++) {
      const m = new Uint8Array([i])
      const k = leToBig(sha512(new Uint8Array([...sig.subarray(0, 32), ...pk, ...m]))) % L
      if (k % 8n === 0n) msg = m
    }
    assert.ok(msg !== undefined)
    assert.equal(plainOpenssl(sig, msg, pk), true, 'the cofactorless equation holds for this forgery')
    for (const [name, fn] of backends) assert.equal(fn(sig, msg, pk), false, name)
    assert.equal(verify(sig, msg, pk), false)
  }
})

test('non-canonical S (S + L) is refused by every backend', () => {
  const v = vectors[1]!
  const sig = hexToBytes(v.signature)
  const s = leToBig(sig.subarray(32))
  const forged = sig.slice()
  forged.set(bigToLe(s + L), 32)
  assert.equal(isCanonicalScalar(forged, 32), false)
  for (const [name, fn] of backends) assert.equal(fn(forged, hexToBytes(v.message), hexToBytes(v.publicKey)), false, name)
})

test('strict encoding helpers: blocklist ignores the sign bit; y ≥ p is non-canonical', () => {
  const identity = new Uint8Array(32)
  identity[0] = 1
  assert.equal(hasSmallOrder(identity), true)
  const signed = identity.slice()
  signed[31] = 0x80
  assert.equal(hasSmallOrder(signed), true)
  assert.equal(hasSmallOrder(hexToBytes(vectors[0]!.publicKey)), false)
  const p = new Uint8Array(32).fill(0xff)
  p[31] = 0x7f
  p[0] = 0xed
  assert.equal(isCanonicalPoint(p), false)
  p[0] = 0xec
  assert.equal(isCanonicalPoint(p), true)
  assert.equal(isCanonicalScalar(bigToLe(L - 1n)), true)
  assert.equal(isCanonicalScalar(bigToLe(L)), false)
})

test('backends agree on random keys, signatures with flipped bits and junk encodings', () => {
  let seed = 7
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
  for (let n = 0; n < 200; n++) {
    const secret = Uint8Array.from({ length: 32 }, () => next() & 0xff)
    const msg = Uint8Array.from({ length: next() % 300 }, () => next() & 0xff)
    const sig = sign(msg, secret)
    const pk = publicKeyOf(secret)
    const variants: Array<[Uint8Array, Uint8Array]> = [
      [sig, pk],
      [Uint8Array.from(sig, (b, i) => (i === n % 64 ? b ^ (1 << n % 8) : b)), pk],
      [sig, Uint8Array.from(pk, (b, i) => (i === n % 32 ? b ^ 1 : b))],
      [Uint8Array.from({ length: 64 }, () => next() & 0xff), Uint8Array.from({ length: 32 }, () => next() & 0xff)],
    ]
    for (const [s, k] of variants) {
      const answers = backends.map(([, fn]) => fn(s, msg, k))
      assert.ok(answers.every((a) => a === answers[0]), `backends disagree on case ${n}`)
    }
    assert.equal(verify(sig, msg, pk), true)
  }
})
