// Entries: signing, canonical bytes, hash, and rejection of forged, wrong-network, oversized,
// unknown-kind and badly-shaped entries with their typed errors. Signatures are cross-checked
// with @noble/curves.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex, canonicalJson, hexToBytes, keyPairFromSecret, sha256Hex, sign } from '../../src/identity/index.js'
import {
  BadEntrySchemaError,
  ForgedSignatureError,
  MAX_ENTRY_BYTES,
  OversizedEntryError,
  UnknownKindError,
  WrongNetworkError,
  decodeEntry,
  encodeEntry,
  entrySigningBytes,
  signEntry,
  signEpochSet,
  type Entry,
} from '../../src/ledger/index.js'
import { signingBytesOfCanonical } from '../../src/ledger/entry.js'

const key = keyPairFromSecret(new Uint8Array(32).fill(7))
const NET = sha256Hex('test network')
const OTHER = sha256Hex('other network')
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(canonicalJson(v))

function manual(fields: Record<string, unknown>): Uint8Array {
  const unsigned = { v: 1, network: NET, kind: 'note', author: bytesToHex(key.publicKey), seq: 1, time: 1, body: { text: 'x' }, ...fields }
  const sig = bytesToHex(sign(enc(unsigned), key.secretKey))
  return enc({ ...unsigned, sig })
}

test('a signed entry decodes, its hash is SHA-256 of its canonical bytes, and @noble/curves verifies it', () => {
  const e = signEntry({ network: NET, kind: 'note', seq: 1, time: 1_700_000_000_000, body: { text: 'héllo' } }, key)
  const bytes = encodeEntry(e)
  const d = decodeEntry(bytes, NET)
  assert.deepEqual(d.entry, e)
  assert.equal(d.hash, sha256Hex(bytes))
  assert.equal(new TextDecoder().decode(bytes), canonicalJson(e))
  assert.ok(ed25519.verify(hexToBytes(e.sig), entrySigningBytes(e), key.publicKey))
  assert.deepEqual(signingBytesOfCanonical(canonicalJson(e)), entrySigningBytes(e))
})

test('a tampered body, author or seq is a forged signature', () => {
  const e = signEntry({ network: NET, kind: 'note', seq: 2, time: 5, body: { text: 'pay 1' } }, key)
  const other = keyPairFromSecret(new Uint8Array(32).fill(9))
  for (const forged of [
    { ...e, body: { text: 'pay 9' } },
    { ...e, seq: 3 },
    { ...e, time: 6 },
    { ...e, author: bytesToHex(other.publicKey) },
  ] as Entry[]) {
    assert.throws(() => decodeEntry(encodeEntry(forged), NET), ForgedSignatureError)
  }
})

test('an entry for another network is rejected', () => {
  const e = signEntry({ network: OTHER, kind: 'note', seq: 1, time: 1, body: { text: 'x' } }, key)
  assert.throws(() => decodeEntry(encodeEntry(e), NET), WrongNetworkError)
})

test('oversized entries are rejected before parsing, and cannot be signed', () => {
  const big = manual({ body: { text: 'a'.repeat(MAX_ENTRY_BYTES) } })
  assert.ok(big.length > MAX_ENTRY_BYTES)
  assert.throws(() => decodeEntry(big, NET), OversizedEntryError)
  const hashes = Array.from({ length: 1100 }, (_, i) => sha256Hex(`e${i}`))
  const a = signEpochSet(NET, 1, hashes, key)
  const b = signEpochSet(NET, 1, hashes.slice(1), key)
  assert.throws(
    () => signEntry({ network: NET, kind: 'fork-proof', seq: 1, time: 1, body: { type: 'epoch-set', witness: a.witness, a, b } }, key),
    OversizedEntryError,
  )
})

test('unknown kinds and bad schemas are rejected with typed errors', () => {
  assert.throws(() => decodeEntry(manual({ kind: 'launch-missiles' }), NET), UnknownKindError)
  assert.throws(() => decodeEntry(manual({ body: { text: 5 } }), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(manual({ body: { text: 'x', extra: 1 } }), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(manual({ seq: 0 }), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(manual({ v: 2 }), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(manual({ extra: true }), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(manual({ author: 'zz' }), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(new TextEncoder().encode('not json'), NET), BadEntrySchemaError)
  assert.throws(() => decodeEntry(new Uint8Array([0xff, 0xfe]), NET), BadEntrySchemaError)
  // Valid JSON, valid signature, but not canonical: one entry must have exactly one byte form.
  const good = decodeEntry(manual({}), NET).entry
  const spaced = new TextEncoder().encode(JSON.stringify(good, null, 1))
  assert.throws(() => decodeEntry(spaced, NET), BadEntrySchemaError)
  assert.throws(() => signEntry({ network: NET, kind: 'note', seq: 1, time: 1, body: { text: 1 as unknown as string } }, key), BadEntrySchemaError)
})
