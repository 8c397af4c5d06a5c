import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, randomBytes, type KeyObject } from 'node:crypto'

/**
 * Ed25519 (RFC 8032) through node:crypto. On our 2-core machines OpenSSL signs ~18x and verifies
 * ~14x faster than @noble/curves (DESIGN.md, "Measured facts"), so the node uses this module and
 * keeps @noble/curves for the browser and as an independent cross-check in tests.
 * Keys are raw 32-byte values; KeyObjects are built once per key and cached.
 */

// DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface KeyPair {
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array
  /** Raw 32-byte secret seed. Never leaves the node. */
  readonly secretKey: Uint8Array
}

const publicKeyCache = new Map<string, KeyObject>()
const privateKeyCache = new WeakMap<Uint8Array, KeyObject>()
const MAX_PUBLIC_CACHE = 65_536

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  let key = privateKeyCache.get(secretKey)
  if (key === undefined) {
    if (secretKey.length !== 32) throw new RangeError('Ed25519 secret key must be 32 bytes')
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' })
    privateKeyCache.set(secretKey, key)
  }
  return key
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex')
  let key = publicKeyCache.get(id)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    if (publicKeyCache.size >= MAX_PUBLIC_CACHE) publicKeyCache.clear()
    publicKeyCache.set(id, key)
  }
  return key
}

/** Derives the raw public key of a raw 32-byte seed. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(secretKey)).export({ format: 'der', type: 'spki' })
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length))
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  const secret = new Uint8Array(secretKey)
  return { secretKey: secret, publicKey: publicKeyOf(secret) }
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(new Uint8Array(randomBytes(32)))
}

/** 64-byte Ed25519 signature of `message`. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, message, privateKeyObject(secretKey)))
}

/** Verifies an Ed25519 signature; false (never throws) for malformed keys or signatures. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}
