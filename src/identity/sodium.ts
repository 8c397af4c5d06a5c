/**
 * libsodium through `sodium-native` (prebuilt binaries ship inside the npm package), loaded once
 * if this platform has it. On our 2-core machines its Ed25519 signs and verifies ~2x faster than
 * OpenSSL through node:crypto (bench/log.ts prints both), and verification is the log's speed
 * limit. `null` where it cannot load: `ed25519.ts` then uses node:crypto with the same rules.
 */

/** The few libsodium functions we use (sodium-native names). */
export interface SodiumEd25519 {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

async function load(): Promise<SodiumEd25519 | null> {
  if (process.env.COMMONS_ED25519 === 'openssl') return null
  try {
    const mod = (await import('sodium-native')) as { default?: SodiumEd25519 } & Partial<SodiumEd25519>
    const lib = (mod.default ?? mod) as SodiumEd25519
    return typeof lib.crypto_sign_verify_detached === 'function' ? lib : null
  } catch {
    return null
  }
}

/** libsodium, or null when unavailable (or COMMONS_ED25519=openssl forces the fallback). */
export const sodium: SodiumEd25519 | null = await load()
