import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, randomBytes, type KeyObject } from 'node:crypto'
import { passesStrictEncodingChecks } from './ed25519-strict.js'
import { sodium } from './sodium.js'

/**
 * Ed25519 (RFC 8032) for the node: libsodium (`sodium.ts`) where it loads, else OpenSSL through
 * node:crypto. On our 2-core machines OpenSSL signs ~18x and verifies ~14x faster than
 * @noble/curves (DESIGN.md, "Measured facts") and libsodium about 2x faster again; verification
 * is the log's speed limit. @noble/curves stays for the browser and as an independent
 * cross-check in tests.
 *
 * Both backends accept exactly the same signatures: libsodium's encoding rules
 * (`ed25519-strict.ts`) are applied before OpenSSL's check, since nodes that disagree about one
 * entry's validity would disagree about the log. Signing is deterministic (RFC 8032 §5.1.6), so
 * both produce the same bytes.
 * Keys are raw 32-byte values; KeyObjects / libsodium secret keys are built once per key and cached.
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
// libsodium's 64-byte secret key (seed || public key) per raw seed.
const sodiumSecretCache = new WeakMap<Uint8Array, Uint8Array>()
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

function sodiumSecretKey(secretKey: Uint8Array): Uint8Array {
  let key = sodiumSecretCache.get(secretKey)
  if (key === undefined) {
    if (secretKey.length !== 32) throw new RangeError('Ed25519 secret key must be 32 bytes')
    key = new Uint8Array(64)
    sodium!.crypto_sign_seed_keypair(new Uint8Array(32), key, secretKey)
    sodiumSecretCache.set(secretKey, key)
  }
  return key
}

/** Which implementation `sign`/`verify` use in this process (benchmarks report it). */
export const ed25519Backend: 'libsodium' | 'openssl' = sodium === null ? 'openssl' : 'libsodium'

/** 64-byte Ed25519 signature of `message`. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (sodium !== null) {
    const signature = new Uint8Array(64)
    sodium.crypto_sign_detached(signature, message, sodiumSecretKey(secretKey))
    return signature
  }
  return new Uint8Array(cryptoSign(null, message, privateKeyObject(secretKey)))
}

/**
 * Verifies an Ed25519 signature under libsodium's rules (RFC 8032 cofactorless equation, canonical
 * S and A, no small-order R or A); false (never throws) for malformed keys or signatures.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  if (sodium !== null) return sodium.crypto_sign_verify_detached(signature, message, publicKey)
  return verifyOpenssl(signature, message, publicKey)
}

/** The fallback path of {@link verify}, exported so tests can hold both backends to one rule. */
export function verifyOpenssl(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!passesStrictEncodingChecks(signature, publicKey)) return false
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

/** The libsodium path of {@link verify} (undefined where libsodium is unavailable), for tests. */
export const verifySodium: ((signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean) | undefined =
  sodium === null
    ? undefined
    : (signature, message, publicKey) => signature.length === 64 && publicKey.length === 32 && sodium!.crypto_sign_verify_detached(signature, message, publicKey)
