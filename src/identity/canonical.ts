import canonicalizeJson from 'canonicalize'
import { InvalidInputError } from '../errors.js'

/**
 * RFC 8785 (JCS) canonical JSON text of a value: the exact bytes that get hashed and signed.
 * Throws on values JSON cannot represent (undefined at the top, NaN, Infinity, BigInt).
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined
  try {
    text = canonicalizeJson(value)
  } catch (err) {
    throw new InvalidInputError(`value has no canonical JSON form: ${(err as Error).message}`, null, err)
  }
  if (text === undefined) throw new InvalidInputError('value has no canonical JSON form')
  return text
}

/** UTF-8 bytes of the RFC 8785 canonical form. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value))
}
