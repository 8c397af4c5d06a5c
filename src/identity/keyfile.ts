import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync, fsyncSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { bytesEqual, bytesToHex, hexToBytes } from './bytes.js'
import { keyPairFromSecret, generateKeyPair, type KeyPair } from './ed25519.js'
import { CorruptKeyFileError, InsecureKeyFileError } from './errors.js'

export const KEY_FILE = 'key.json'

const KeyFileSchema = z.object({
  type: z.literal('ed25519'),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  secretKey: z.string().regex(/^[0-9a-f]{64}$/),
})

/**
 * Loads the node's Ed25519 key from `<dataDir>/key.json`, creating it (mode 0600) on first start.
 * Refuses a key file that group or others can read: the key is the node's identity in the log.
 */
export function loadOrCreateKey(dataDir: string): KeyPair {
  const path = join(dataDir, KEY_FILE)
  if (!existsSync(path)) {
    const pair = generateKeyPair()
    writeKeyFile(path, pair)
    return pair
  }
  return readKeyFile(path)
}

export function readKeyFile(path: string): KeyPair {
  const fd = openSync(path, 'r')
  let text: string
  try {
    const { mode } = fstatSync(fd)
    if ((mode & 0o077) !== 0) throw new InsecureKeyFileError(path, mode)
    text = readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
  let parsed: z.infer<typeof KeyFileSchema>
  try {
    parsed = KeyFileSchema.parse(JSON.parse(text))
  } catch (err) {
    throw new CorruptKeyFileError(path, err instanceof SyntaxError ? 'not JSON' : 'unexpected fields')
  }
  const pair = keyPairFromSecret(hexToBytes(parsed.secretKey))
  if (!bytesEqual(pair.publicKey, hexToBytes(parsed.publicKey))) {
    throw new CorruptKeyFileError(path, 'public key does not match secret key')
  }
  return pair
}

/** Writes atomically (temp file + fsync + rename) so a crash never leaves a half-written key. */
export function writeKeyFile(path: string, pair: KeyPair): void {
  const body = JSON.stringify(
    { type: 'ed25519', publicKey: bytesToHex(pair.publicKey), secretKey: bytesToHex(pair.secretKey) },
    null,
    2,
  )
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${body}\n`, { mode: 0o600, flag: 'wx' })
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

/** The node id shown to people and used as `author` in the log: hex of the raw public key. */
export function nodeIdOf(publicKey: Uint8Array): string {
  return bytesToHex(publicKey)
}
