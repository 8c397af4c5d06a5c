/**
 * Log entries: `{ v: 1, network, kind, author, seq, time, body, sig }`.
 *
 * - `network`: hex SHA-256 of the genesis's RFC 8785 canonical JSON (`genesis.ts`), so an entry
 *   signed for one network is invalid on every other.
 * - `author`: hex raw Ed25519 public key (the node id). `seq`: the author's counter, from 1; an
 *   (author, seq) pair appears at most once in a log (a second one is a replay). Seq need not
 *   arrive in order: an epoch batch is ordered by entry hash and entries that miss an epoch carry
 *   over, so the log enforces uniqueness, not contiguity.
 * - `time`: the author's claimed ms timestamp (a claim, not a fact: finality gives the order).
 * - `sig`: hex Ed25519 signature over the RFC 8785 canonical form of the entry without `sig`.
 *
 * Bytes: the canonical form WITH `sig` is the entry's wire/storage form, at most 64 KiB; it is the
 * Merkle leaf data, and SHA-256 of it is the entry hash.
 */
import { z } from 'zod'
import {
  bytesToHex,
  canonicalJson,
  sha256Hex,
  sign,
  verify,
  type KeyPair,
} from '../identity/index.js'
import {
  BadEntrySchemaError,
  ForgedSignatureError,
  OversizedEntryError,
  UnknownKindError,
  WrongNetworkError,
} from './errors.js'
import { bodySchemaOf, type BodyOf, type Kind } from './kinds.js'
import { Hex32, Hex64, Uint } from './schemas.js'

/** Maximum size of an entry's canonical form (with `sig`), in bytes. */
export const MAX_ENTRY_BYTES = 64 * 1024

/** The envelope schema; the body is checked separately against its kind's schema. */
export const EntryEnvelopeSchema = z.strictObject({
  v: z.literal(1),
  network: Hex32,
  kind: z.string().min(1).max(64),
  author: Hex32,
  seq: Uint.min(1),
  time: Uint,
  body: z.unknown(),
  sig: Hex64,
})

/** A signed log entry. `K`/`B` narrow the kind and body for typed use. */
export interface Entry<K extends string = string, B = unknown> {
  readonly v: 1
  readonly network: string
  readonly kind: K
  readonly author: string
  readonly seq: number
  readonly time: number
  readonly body: B
  readonly sig: string
}

/** An entry of a registered kind with its parsed body type. */
export type KindEntry<K extends Kind> = Entry<K, BodyOf<K>>

/** An entry before signing. */
export type UnsignedEntry<K extends string = string, B = unknown> = Omit<Entry<K, B>, 'sig'>

const encoder = new TextEncoder()
// ignoreBOM keeps a leading BOM in the text (where JSON.parse rejects it) instead of dropping it
// silently: bytes with and without one would otherwise be two encodings of one entry.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The bytes the author signs: RFC 8785 canonical form without `sig`. */
export function entrySigningBytes(entry: UnsignedEntry | Entry): Uint8Array {
  const { sig: _sig, ...unsigned } = entry as Entry
  return encoder.encode(canonicalJson(unsigned))
}

/** The entry's wire/storage bytes (= Merkle leaf data): RFC 8785 canonical form with `sig`. */
export function encodeEntry(entry: Entry): Uint8Array {
  return encoder.encode(canonicalJson(entry))
}

/** Hex SHA-256 of the entry's canonical bytes. */
export function entryHash(bytes: Uint8Array): string {
  return sha256Hex(bytes)
}

/** Fields an author provides; `author` comes from the key. */
export interface EntryDraft<K extends Kind> {
  readonly network: string
  readonly kind: K
  readonly seq: number
  readonly time: number
  readonly body: BodyOf<K>
}

/**
 * Builds, validates and signs an entry. Throws the same typed errors as {@link decodeEntry}
 * (unknown kind, bad schema, oversized), so nothing unsendable is ever produced.
 */
export function signEntry<K extends Kind>(draft: EntryDraft<K>, key: KeyPair): KindEntry<K> {
  return signAndEncodeEntry(draft, key).entry as KindEntry<K>
}

/**
 * {@link signEntry} that also returns the entry's canonical bytes and hash, serialising the entry
 * once (bulk appends would otherwise canonicalise it again in {@link encodeEntry}).
 */
export function signAndEncodeEntry<K extends Kind>(draft: EntryDraft<K>, key: KeyPair): DecodedEntry & { readonly entry: KindEntry<K> } {
  const author = authorHexOf(key.publicKey)
  const unsigned: UnsignedEntry<K, BodyOf<K>> = {
    v: 1,
    network: draft.network,
    kind: draft.kind,
    author,
    seq: draft.seq,
    time: draft.time,
    body: draft.body,
  }
  // The author and `v` are ours, so the draft's fields and body are all there is to check; zod
  // runs on the whole envelope only to word the error when the quick check says no.
  if (!hasDraftFields(draft)) checkEntryShape({ ...unsigned, sig: '0'.repeat(128) }, draft.network)
  checkBody(draft.kind, draft.body)
  const { head, tail } = canonicalParts(unsigned)
  // One UTF-8 encoding serves both the signed message (head + tail) and the stored bytes
  // (head + sig member + tail): only the body can hold non-ASCII text, and it is in the head.
  const headBytes = encoder.encode(head)
  const size = headBytes.length + SIG_MEMBER_BYTES + tail.length
  if (size > MAX_ENTRY_BYTES) throw new OversizedEntryError(size, MAX_ENTRY_BYTES)
  const message = new Uint8Array(headBytes.length + tail.length)
  message.set(headBytes)
  writeAscii(message, headBytes.length, tail)
  const signature = sign(message, key.secretKey)
  const sig = Buffer.from(signature.buffer, signature.byteOffset, signature.length).toString('hex')
  const bytes = new Uint8Array(size)
  bytes.set(headBytes)
  writeAscii(bytes, headBytes.length, `,"sig":"${sig}"`)
  bytes.set(message.subarray(headBytes.length), headBytes.length + SIG_MEMBER_BYTES)
  return new SignedEntry({ ...unsigned, sig } as KindEntry<K>, bytes)
}

/** Bytes of the member `,"sig":"<128 hex>"` in an entry's canonical form. */
const SIG_MEMBER_BYTES = ',"sig":""'.length + 128

function writeAscii(into: Uint8Array, at: number, text: string): void {
  Buffer.from(into.buffer, into.byteOffset + at, text.length).write(text, 'latin1')
}

// Hex of each signing key's public key, computed once per key object.
const authorHexCache = new WeakMap<Uint8Array, string>()
function authorHexOf(publicKey: Uint8Array): string {
  let hex = authorHexCache.get(publicKey)
  if (hex === undefined) {
    hex = bytesToHex(publicKey)
    authorHexCache.set(publicKey, hex)
  }
  return hex
}

/** A freshly signed entry; its hash is computed on first use (bulk signers hand the bytes to verifiers that hash them anyway). */
class SignedEntry<E extends Entry> implements DecodedEntry {
  #hash: string | undefined
  constructor(
    readonly entry: E,
    readonly bytes: Uint8Array,
  ) {}

  get hash(): string {
    return (this.#hash ??= entryHash(this.bytes))
  }
}

/**
 * RFC 8785 text of an entry whose envelope passed {@link EntryEnvelopeSchema}, around its `sig`
 * member: canonical = head + `,"sig":"…"` + tail, signing text = head + tail. The envelope's
 * members are fixed, so their RFC 8785 order is known (author, body, kind, network, seq, sig,
 * time, v); hex strings need no escaping, `kind` is serialised as ES JSON.stringify does (§3.2.2.2),
 * and seq/time are safe non-negative integers, whose ES number form is their digits (§3.2.2.3).
 * Only the body goes through the general canonicaliser. Saves sorting and walking the envelope.
 */
function canonicalParts(e: UnsignedEntry): { head: string; tail: string } {
  return {
    head: `{"author":"${e.author}","body":${canonicalJson(e.body)},"kind":${JSON.stringify(e.kind)},"network":"${e.network}","seq":${e.seq}`,
    tail: `,"time":${e.time},"v":1}`,
  }
}

function zodDetail(err: z.ZodError): string {
  const issue = err.issues[0]
  if (issue === undefined) return 'schema mismatch'
  const path = issue.path.join('.')
  return path === '' ? issue.message : `${path}: ${issue.message}`
}

const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['v', 'network', 'kind', 'author', 'seq', 'time', 'body', 'sig'])
const HEX32 = /^[0-9a-f]{64}$/
const HEX64 = /^[0-9a-f]{128}$/
const isUint = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0

/** The fields a draft gives, each as {@link EntryEnvelopeSchema} asks of them. */
function hasDraftFields(d: { readonly network?: unknown; readonly kind?: unknown; readonly seq?: unknown; readonly time?: unknown; readonly body?: unknown }): boolean {
  return (
    typeof d.network === 'string' &&
    HEX32.test(d.network) &&
    typeof d.kind === 'string' &&
    d.kind.length >= 1 &&
    d.kind.length <= 64 &&
    isUint(d.seq) &&
    d.seq >= 1 &&
    isUint(d.time) &&
    d.body !== undefined
  )
}

/**
 * A quick, allocation-free check that `value` passes {@link EntryEnvelopeSchema}: true only when
 * zod would accept it (never the other way round, see its test), false whenever in doubt, and
 * the caller then asks zod, which words the error. zod costs ~3.5 µs per envelope and every
 * entry is checked when signed and again when verified, ~5 % of a bulk append.
 */
export function isEntryEnvelope(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false
  const e = value as Record<string, unknown>
  // Eight own enumerable keys, each one of the eight names: exactly the envelope's members.
  const keys = Object.keys(e)
  if (keys.length !== ENVELOPE_KEYS.size) return false
  for (const key of keys) if (!ENVELOPE_KEYS.has(key)) return false
  return (
    e.v === 1 &&
    typeof e.author === 'string' &&
    HEX32.test(e.author) &&
    typeof e.sig === 'string' &&
    HEX64.test(e.sig) &&
    hasDraftFields(e)
  )
}

/** Envelope + network + kind + body checks (no signature). Returns the typed entry. */
function checkEntryShape(value: unknown, network: string): Entry {
  let entry: Entry
  if (isEntryEnvelope(value)) entry = value
  else {
    const env = EntryEnvelopeSchema.safeParse(value)
    if (!env.success) throw new BadEntrySchemaError(zodDetail(env.error), String(env.error.issues[0]?.path[0] ?? '') || null)
    entry = env.data as Entry
  }
  if (entry.network !== network) throw new WrongNetworkError(network, entry.network)
  checkBody(entry.kind, entry.body)
  return entry
}

/** The kind is registered and the body passes its schema. */
function checkBody(kind: string, body: unknown): void {
  const schema = bodySchemaOf(kind)
  if (schema === undefined) throw new UnknownKindError(kind)
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw new BadEntrySchemaError(`body of '${kind}': ${zodDetail(parsed.error)}`, 'body')
}

/** A decoded, fully validated entry with its canonical bytes and hash. */
export interface DecodedEntry {
  readonly entry: Entry
  readonly bytes: Uint8Array
  /** Hex SHA-256 of `bytes`. */
  readonly hash: string
}

/**
 * Validates untrusted entry bytes (from a peer, a client, or disk) for `network`: size, UTF-8 JSON,
 * RFC 8785 canonical form, envelope, kind and body schema, and the author's signature.
 * Does NOT check replay (seq uniqueness is log state: `LogStore` checks it).
 *
 * @throws OversizedEntryError | BadEntrySchemaError | WrongNetworkError | UnknownKindError | ForgedSignatureError
 */
export function decodeEntry(bytes: Uint8Array, network: string): DecodedEntry {
  return { entry: validateEntry(bytes, network), bytes, hash: entryHash(bytes) }
}

/**
 * {@link decodeEntry} without computing the entry hash: for bulk paths that hash the bytes
 * themselves (`verify-chunk.ts` needs both the entry hash and the Merkle leaf hash).
 *
 * @throws OversizedEntryError | BadEntrySchemaError | WrongNetworkError | UnknownKindError | ForgedSignatureError
 */
export function validateEntry(bytes: Uint8Array, network: string): Entry {
  if (bytes.length > MAX_ENTRY_BYTES) throw new OversizedEntryError(bytes.length, MAX_ENTRY_BYTES)
  let text: string
  let value: unknown
  try {
    text = decoder.decode(bytes)
    value = JSON.parse(text)
  } catch {
    throw new BadEntrySchemaError('not UTF-8 JSON')
  }
  const entry = checkEntryShape(value, network)
  // Canonical form is required so that one entry has exactly one hash and one leaf.
  const { head, tail } = canonicalParts(entry)
  if (text !== `${head},"sig":"${entry.sig}"${tail}`) throw new BadEntrySchemaError('not in RFC 8785 canonical form')
  // The text is canonical and `bytes` is exactly its UTF-8 (the decoder keeps a BOM, which JSON
  // rejects), so the signed message is `bytes` without the ASCII sig member, which sits right
  // before the ASCII tail: cut out by byte offsets instead of encoding head + tail again.
  const sigAt = bytes.length - tail.length - SIG_MEMBER_BYTES
  const message = new Uint8Array(bytes.length - SIG_MEMBER_BYTES)
  message.set(bytes.subarray(0, sigAt))
  message.set(bytes.subarray(sigAt + SIG_MEMBER_BYTES), sigAt)
  // Buffer.from(hex): native decoding; sig and author already passed the lowercase-hex check.
  if (!verify(Buffer.from(entry.sig, 'hex'), message, Buffer.from(entry.author, 'hex'))) throw new ForgedSignatureError()
  return entry
}

/**
 * Signing bytes of an entry already known to be canonical text: the text minus its top-level
 * `,"sig":"…"` member. In RFC 8785 order the members are author, body, kind, network, seq, sig,
 * time, v; only numbers follow `sig`, so its last occurrence is the top-level one, and removing a
 * member from canonical JSON leaves the canonical JSON of the rest. Saves a re-serialisation.
 */
export function signingBytesOfCanonical(text: string): Uint8Array {
  const at = text.lastIndexOf(',"sig":"')
  if (at < 0) throw new BadEntrySchemaError('missing sig', 'sig')
  const end = at + ',"sig":"'.length + 128 + 1
  return encoder.encode(text.slice(0, at) + text.slice(end))
}

/** Parses canonical entry bytes already validated once (e.g. read back from our own store). */
export function parseStoredEntry(bytes: Uint8Array): Entry {
  return JSON.parse(decoder.decode(bytes)) as Entry
}
