/**
 * The encoding rules libsodium's `crypto_sign_verify_detached` applies before the Ed25519 equation
 * (libsodium `crypto_sign/ed25519/ref10/open.c`, `_crypto_sign_ed25519_verify_detached`), so that
 * every node accepts exactly the same signatures whichever backend it runs (`ed25519.ts`):
 * - S must be canonical, S < L (RFC 8032 §5.1.7 step 1 — OpenSSL checks this too);
 * - R must not be a point of small order;
 * - A (the public key) must be a canonical encoding (y < p) and not of small order.
 * OpenSSL checks only the first, so without these checks it accepts e.g. any message "signed" by
 * the identity key with R = identity, S = 0. A log is consensus data: two nodes must never
 * disagree about an entry, so the OpenSSL fallback path applies these checks first.
 *
 * Pure, constant-size byte comparisons; not constant-time (signatures and keys are public).
 */

// L = 2^252 + 27742317777372353535851937790883648493, little-endian (RFC 8032 §5.1).
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
])

const fill = (first: number, middle: number, last: number): Uint8Array => {
  const b = new Uint8Array(32).fill(middle)
  b[0] = first
  b[31] = last
  return b
}

// libsodium's `ge25519_has_small_order` blocklist: encodings (sign bit ignored) of the points of
// order 1, 2, 4 and 8, including the non-canonical encodings p and p+1 of y = 0 and y = 1.
const SMALL_ORDER: readonly Uint8Array[] = [
  new Uint8Array(32), // y = 0 (order 4)
  fill(0x01, 0x00, 0x00), // y = 1, the identity (order 1)
  Uint8Array.from([
    0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
    0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
  ]), // order 8
  Uint8Array.from([
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
    0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
  ]), // order 8
  fill(0xec, 0xff, 0x7f), // y = p - 1 (order 2)
  fill(0xed, 0xff, 0x7f), // y = p, non-canonical 0 (order 4)
  fill(0xee, 0xff, 0x7f), // y = p + 1, non-canonical 1 (order 1)
]

/** True iff the 32-byte little-endian scalar is < L (`sc25519_is_canonical`). */
export function isCanonicalScalar(s: Uint8Array, offset = 0): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[offset + i]!
    const b = L[i]!
    if (a !== b) return a < b
  }
  return false // equal to L
}

/** True iff the point encoding has y < p (`ge25519_is_canonical`); the sign bit may be set. */
export function isCanonicalPoint(p: Uint8Array, offset = 0): boolean {
  if ((p[offset + 31]! & 0x7f) !== 0x7f) return true
  for (let i = 30; i > 0; i--) if (p[offset + i] !== 0xff) return true
  return p[offset]! < 0xed
}

/** True iff the encoding is on libsodium's small-order blocklist (`ge25519_has_small_order`). */
export function hasSmallOrder(p: Uint8Array, offset = 0): boolean {
  outer: for (const bad of SMALL_ORDER) {
    for (let i = 0; i < 31; i++) if (p[offset + i] !== bad[i]) continue outer
    if ((p[offset + 31]! & 0x7f) === bad[31]) return true
  }
  return false
}

/** libsodium's pre-checks of a 64-byte signature and 32-byte public key (see the module comment). */
export function passesStrictEncodingChecks(signature: Uint8Array, publicKey: Uint8Array): boolean {
  return (
    signature.length === 64 &&
    publicKey.length === 32 &&
    isCanonicalScalar(signature, 32) &&
    !hasSmallOrder(signature, 0) &&
    isCanonicalPoint(publicKey) &&
    !hasSmallOrder(publicKey)
  )
}
