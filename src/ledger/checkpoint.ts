/**
 * Checkpoints in the C2SP formats:
 * - c2sp.org/tlog-checkpoint: the note body is `<origin>\n<size>\n<base64 root>\n[extension lines]`;
 *   our origin is `<network name>/<network id>` (`originOf(genesis)`).
 * - c2sp.org/signed-note: the body, a blank line, then signature lines
 *   `— <key name> <base64(4-byte key id || signature)>`.
 * - c2sp.org/tlog-cosignature (cosignature/v1): witnesses sign
 *   `cosignature/v1\ntime <t>\n<body>` with Ed25519; the signature field is
 *   `u64 timestamp (big-endian) || 64-byte signature`; key id = SHA-256(name || 0x0A || 0x04 || key)[:4].
 *
 * There is no single log operator in Commons, so a checkpoint carries only witness cosignatures;
 * it is final when ≥ k distinct genesis/governance witnesses cosigned it (`isFinal`).
 * A note received from a peer is untrusted text until `verifyCosignatures` checks it against the
 * witness keys we already know; unknown signature lines are ignored (signed-note §Signatures).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesEqual, bytesToHex, hexToBytes, sign, verify, type KeyPair } from '../identity/index.js'
import { BadCheckpointError } from './errors.js'
import { HASH_SIZE, type Hash } from './merkle.js'

/** Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/signed-note). */
export const COSIGNATURE_V1_TYPE = 0x04

const EM_DASH = '\u2014'
const MAX_NOTE_BYTES = 1 << 16
const MAX_SIGNATURES = 256

/** The three (or more) lines a checkpoint body says. */
export interface Checkpoint {
  readonly origin: string
  readonly size: number
  readonly root: Hash
  /** Extension lines after the root (e.g. `epoch 12`), without newlines. */
  readonly extensions: readonly string[]
}

/** One signature line of a signed note. */
export interface NoteSignature {
  readonly name: string
  /** 4-byte key id (big-endian uint32 as bytes). */
  readonly keyId: Uint8Array
  /** The signature bytes after the key id. */
  readonly signature: Uint8Array
}

/** A parsed signed note carrying a checkpoint. */
export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint
  /** The exact note text that is signed (includes the final newline). */
  readonly body: string
  readonly signatures: readonly NoteSignature[]
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

function fromB64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new BadCheckpointError(`${what} is not base64`)
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** tlog-checkpoint note body: origin, decimal size, base64 root, extension lines; each ends in \n. */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin === '' || /[\n\r]/.test(cp.origin)) throw new BadCheckpointError('origin must be one non-empty line')
  if (cp.root.length !== HASH_SIZE) throw new BadCheckpointError('root must be 32 bytes')
  for (const ext of cp.extensions) if (ext === '' || ext.includes('\n')) throw new BadCheckpointError('extension lines must be non-empty single lines')
  return [cp.origin, String(cp.size), b64(cp.root), ...cp.extensions].map((l) => `${l}\n`).join('')
}

/** Parses a tlog-checkpoint note body. @throws BadCheckpointError */
export function parseCheckpoint(body: string): Checkpoint {
  if (!body.endsWith('\n')) throw new BadCheckpointError('body must end with a newline')
  const lines = body.slice(0, -1).split('\n')
  if (lines.length < 3) throw new BadCheckpointError('body needs origin, size and root lines')
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]]
  if (origin === '') throw new BadCheckpointError('empty origin')
  // Decimal without leading zeroes (tlog-checkpoint).
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) throw new BadCheckpointError(`bad size '${sizeLine.slice(0, 20)}'`)
  const root = fromB64(rootLine, 'root')
  if (root.length !== HASH_SIZE) throw new BadCheckpointError('root is not 32 bytes')
  if (extensions.some((e) => e === '')) throw new BadCheckpointError('empty extension line')
  return { origin, size: Number(sizeLine), root, extensions }
}

/** c2sp.org/signed-note text: body, blank line, one `— name base64(keyid||sig)` line per signature. */
export function formatSignedNote(body: string, signatures: readonly NoteSignature[]): string {
  const lines = signatures.map((s) => `${EM_DASH} ${s.name} ${b64(new Uint8Array([...s.keyId, ...s.signature]))}\n`)
  return `${body}\n${lines.join('')}`
}

/** Parses a signed note carrying a checkpoint (signatures NOT verified here). @throws BadCheckpointError */
export function parseSignedCheckpoint(note: string): SignedCheckpoint {
  if (new TextEncoder().encode(note).length > MAX_NOTE_BYTES) throw new BadCheckpointError('note too large')
  // signed-note: no ASCII control characters other than newline.
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new BadCheckpointError('control character in note')
  if (!note.endsWith('\n')) throw new BadCheckpointError('note must end with a newline')
  const split = note.lastIndexOf('\n\n')
  if (split < 0) throw new BadCheckpointError('no blank line before the signatures')
  const body = note.slice(0, split + 1)
  const sigLines = note.slice(split + 2, -1).split('\n')
  if (sigLines.length > MAX_SIGNATURES) throw new BadCheckpointError('too many signatures')
  const signatures = sigLines.map((line): NoteSignature => {
    const m = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/=]+)$/.exec(line)
    if (m === null) throw new BadCheckpointError('malformed signature line')
    const raw = fromB64(m[2]!, 'signature')
    if (raw.length < 5) throw new BadCheckpointError('signature too short')
    return { name: m[1]!, keyId: raw.slice(0, 4), signature: raw.slice(4) }
  })
  return { checkpoint: parseCheckpoint(body), body, signatures }
}

/** Key name of a witness in signature lines: `commons.witness/<node id>`. */
export function witnessKeyName(nodeId: string): string {
  return `commons.witness/${nodeId}`
}

/** signed-note key id: SHA-256(name || 0x0A || type || public key)[:4]. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name)
  const buf = new Uint8Array(nameBytes.length + 2 + publicKey.length)
  buf.set(nameBytes, 0)
  buf[nameBytes.length] = 0x0a
  buf[nameBytes.length + 1] = type
  buf.set(publicKey, nameBytes.length + 2)
  return sha256(buf).slice(0, 4)
}

function cosignedMessage(body: string, timestamp: number): Uint8Array {
  return new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n${body}`)
}

/** A witness's cosignature/v1 over a checkpoint body at `timestamp` (POSIX seconds). */
export function cosign(body: string, key: KeyPair, timestamp: number): NoteSignature {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be a non-negative integer (seconds)')
  const name = witnessKeyName(bytesToHex(key.publicKey))
  const sig = sign(cosignedMessage(body, timestamp), key.secretKey)
  const field = new Uint8Array(8 + 64)
  new DataView(field.buffer).setBigUint64(0, BigInt(timestamp), false)
  field.set(sig, 8)
  return { name, keyId: noteKeyId(name, COSIGNATURE_V1_TYPE, key.publicKey), signature: field }
}

/** Signs a checkpoint as each of `keys` and returns the signed note text. */
export function cosignCheckpoint(cp: Checkpoint, keys: readonly KeyPair[], timestamp: number): string {
  const body = formatCheckpoint(cp)
  return formatSignedNote(body, keys.map((k) => cosign(body, k, timestamp)))
}

/** Adds cosignatures to a signed note (keeps existing lines; a witness already present is replaced). */
export function addCosignatures(note: string, added: readonly NoteSignature[]): string {
  const parsed = parseSignedCheckpoint(note)
  const names = new Set(added.map((s) => s.name))
  return formatSignedNote(parsed.body, [...parsed.signatures.filter((s) => !names.has(s.name)), ...added])
}

/** Result of checking a note's cosignatures against known witnesses. */
export interface CosignatureCheck {
  /** Witness node ids with a valid cosignature (distinct, in note order). */
  readonly valid: string[]
  /** Witness node ids whose name and key id matched but whose signature did NOT verify. */
  readonly invalid: string[]
  /** Cosignature timestamp (seconds) of each valid witness. */
  readonly timestamps: ReadonlyMap<string, number>
}

/**
 * Verifies every signature line that names a known witness (name AND key id must match; others
 * are ignored, per signed-note). `witnesses` are hex node ids (raw Ed25519 public keys).
 */
export function verifyCosignatures(signed: SignedCheckpoint, witnesses: readonly string[]): CosignatureCheck {
  const known = new Map<string, { id: string; key: Uint8Array; keyId: Uint8Array }>()
  for (const w of witnesses) {
    const key = hexToBytes(w)
    const name = witnessKeyName(w)
    known.set(name, { id: w, key, keyId: noteKeyId(name, COSIGNATURE_V1_TYPE, key) })
  }
  const valid: string[] = []
  const invalid: string[] = []
  const timestamps = new Map<string, number>()
  for (const s of signed.signatures) {
    const k = known.get(s.name)
    if (k === undefined || !bytesEqual(k.keyId, s.keyId)) continue
    let ok = false
    if (s.signature.length === 72) {
      const ts = new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0, false)
      if (ts <= BigInt(Number.MAX_SAFE_INTEGER)) {
        ok = verify(s.signature.subarray(8), cosignedMessage(signed.body, Number(ts)), k.key)
        if (ok && !timestamps.has(k.id)) timestamps.set(k.id, Number(ts))
      }
    }
    if (ok) {
      if (!valid.includes(k.id)) valid.push(k.id)
    } else if (!invalid.includes(k.id)) {
      invalid.push(k.id)
    }
  }
  return { valid, invalid, timestamps }
}

/**
 * True iff the checkpoint note carries valid cosignatures from at least `k` distinct `witnesses`.
 * Accepts the note text or an already parsed note; malformed text is simply not final.
 */
export function isFinal(checkpoint: string | SignedCheckpoint, witnesses: readonly string[], k: number): boolean {
  let signed: SignedCheckpoint
  try {
    signed = typeof checkpoint === 'string' ? parseSignedCheckpoint(checkpoint) : checkpoint
  } catch {
    return false
  }
  return verifyCosignatures(signed, witnesses).valid.length >= k
}

/** Extension line naming the epoch a checkpoint closes (`epoch <n>`), if any. */
export function epochOf(cp: Checkpoint): number | undefined {
  for (const e of cp.extensions) {
    const m = /^epoch (0|[1-9][0-9]{0,15})$/.exec(e)
    if (m !== null) return Number(m[1])
  }
  return undefined
}

/**
 * Extension line naming the log size before the epoch's batch (`from <n>`), if any: the checkpoint
 * says "entries [n, size) became final in this epoch" (n = size for an epoch with no new entry).
 * A chain of checkpoints whose every `from` is the size of the one before is complete: a peer
 * cannot hide the checkpoint that included an entry (which would change the time governance gives
 * it) without the gap showing (`sync.ts`).
 */
export function batchStartOf(cp: Checkpoint): number | undefined {
  for (const e of cp.extensions) {
    const m = /^from (0|[1-9][0-9]{0,15})$/.exec(e)
    if (m !== null) return Number(m[1])
  }
  return undefined
}

/** Hex of a checkpoint's root (for logs and JSON output). */
export function rootHex(cp: Checkpoint): string {
  return bytesToHex(cp.root)
}
