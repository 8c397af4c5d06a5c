import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

export { bytesToHex, hexToBytes, utf8ToBytes }

/** Constant-length equality of two byte arrays (not constant-time: for public data only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** True for a lowercase hex string of exactly `bytes` bytes. */
export function isHex(value: string, bytes: number): boolean {
  return value.length === bytes * 2 && /^[0-9a-f]*$/.test(value)
}
