import { createHash } from 'node:crypto'

/** SHA-256 through OpenSSL (several times faster than a JS implementation for bulk log work). */
export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}
