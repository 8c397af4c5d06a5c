// C2SP checkpoints: signed-note/tlog-checkpoint format (parsing the example of
// c2sp.org/tlog-cosignature), cosignature/v1 signing and verification (cross-checked with
// @noble/curves), k-of-n finality, and fork proofs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, keyPairFromSecret, sha256Hex } from '../../src/identity/index.js'
import {
  BadCheckpointError,
  addCosignatures,
  checkpointForkProof,
  cosign,
  cosignCheckpoint,
  epochSetForkProof,
  formatCheckpoint,
  formatSignedNote,
  isFinal,
  noteKeyId,
  parseSignedCheckpoint,
  signEpochSet,
  verifyCosignatures,
  verifyForkProof,
  witnessKeyName,
  type Checkpoint,
} from '../../src/ledger/index.js'

// c2sp.org/tlog-cosignature, "Transparency Log Cosignatures", example note.
const C2SP_EXAMPLE = `example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
`

const keys = Array.from({ length: 5 }, (_, i) => keyPairFromSecret(new Uint8Array(32).fill(i + 1)))
const witnesses = keys.slice(0, 4).map((k) => bytesToHex(k.publicKey))
const root = (s: string): Uint8Array => sha256(new TextEncoder().encode(s))
const cp = (size: number, r: string, extensions: string[] = []): Checkpoint => ({ origin: 'net/abc', size, root: root(r), extensions })

test('parses the C2SP tlog-cosignature example: body, key ids and the cosignature timestamp', () => {
  const n = parseSignedCheckpoint(C2SP_EXAMPLE)
  assert.equal(n.checkpoint.origin, 'example.com/behind-the-sofa')
  assert.equal(n.checkpoint.size, 20852163)
  assert.equal(Buffer.from(n.checkpoint.root).toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=')
  assert.equal(n.body, 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n')
  assert.equal(n.signatures.length, 2)
  const w = n.signatures[1]!
  assert.equal(w.name, 'witness.example.com/w1')
  assert.equal(bytesToHex(w.keyId), '8d66cf3f')
  assert.equal(w.signature.length, 72, 'u64 timestamp || 64-byte Ed25519 signature')
  // The spec's example signed message uses "time 1679315147".
  assert.equal(new DataView(w.signature.buffer, w.signature.byteOffset).getBigUint64(0), 1679315147n)
  assert.equal(formatSignedNote(n.body, n.signatures), C2SP_EXAMPLE, 'format(parse(x)) = x')
})

test('malformed notes are rejected', () => {
  for (const bad of [
    'origin\n12\n',
    'origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— a AAAAAAA=\n',
    'origin\n12\nnotbase64!\n\n— a AAAAAAA=\n',
    'origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— a+b AAAAAAA=\n',
    'origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\nno dash\n',
    'orig\u0001in\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— a AAAAAAA=\n',
  ]) {
    assert.throws(() => parseSignedCheckpoint(bad), BadCheckpointError, JSON.stringify(bad))
  }
})

test('cosignature/v1: key id, signed message and signature match the spec (checked with @noble/curves)', () => {
  const k = keys[0]!
  const body = formatCheckpoint(cp(7, 'r', ['epoch 3']))
  const s = cosign(body, k, 1_700_000_000)
  const name = witnessKeyName(bytesToHex(k.publicKey))
  assert.equal(s.name, name)
  const idInput = new Uint8Array([...new TextEncoder().encode(name), 0x0a, 0x04, ...k.publicKey])
  assert.deepEqual(s.keyId, sha256(idInput).slice(0, 4))
  assert.deepEqual(noteKeyId(name, 0x04, k.publicKey), s.keyId)
  const msg = new TextEncoder().encode(`cosignature/v1\ntime 1700000000\n${body}`)
  assert.ok(ed25519.verify(s.signature.subarray(8), msg, k.publicKey))
  assert.equal(new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0), 1_700_000_000n)
})

test('k-of-n finality counts distinct known witnesses with valid cosignatures', () => {
  const c = cp(10, 'ten')
  const two = cosignCheckpoint(c, keys.slice(0, 2), 100)
  assert.ok(!isFinal(two, witnesses, 3))
  const three = addCosignatures(two, [cosign(formatCheckpoint(c), keys[2]!, 101)])
  assert.ok(isFinal(three, witnesses, 3))
  // A non-witness signature and a repeated witness signature do not count.
  const outsider = addCosignatures(two, [cosign(formatCheckpoint(c), keys[4]!, 101)])
  assert.ok(!isFinal(outsider, witnesses, 3))
  const dup = formatSignedNote(formatCheckpoint(c), [...parseSignedCheckpoint(two).signatures, parseSignedCheckpoint(two).signatures[0]!])
  assert.ok(!isFinal(dup, witnesses, 3))
  // Tampering with the body or a signature breaks it.
  const tamperedRoot = three.replace(Buffer.from(c.root).toString('base64'), Buffer.from(root('x')).toString('base64'))
  assert.ok(!isFinal(tamperedRoot, witnesses, 3))
  assert.equal(verifyCosignatures(parseSignedCheckpoint(tamperedRoot), witnesses).invalid.length, 3)
  const lines = three.split('\n')
  const last = lines[lines.length - 2]!
  const flipped = last.slice(0, -6) + (last.at(-6) === 'A' ? 'B' : 'A') + last.slice(-5)
  const badSig = [...lines.slice(0, -2), flipped, ''].join('\n')
  const check = verifyCosignatures(parseSignedCheckpoint(badSig), witnesses)
  assert.equal(check.valid.length, 2)
  assert.equal(check.invalid.length, 1)
  assert.ok(!isFinal('garbage', witnesses, 1))
})

test('fork proofs: two conflicting FINAL checkpoints cosigned by one witness, or conflicting epoch sets', () => {
  const w = witnesses[1]!
  const k = keys[1]!
  const finality = { witnesses, threshold: 2 }
  const both = [k, keys[2]!]
  const a = cosignCheckpoint(cp(5, 'A'), both, 1)
  const b = cosignCheckpoint(cp(5, 'B'), both, 2)
  assert.ok(verifyForkProof(checkpointForkProof(w, a, b), { origin: 'net/abc', finality }))
  assert.ok(!verifyForkProof(checkpointForkProof(w, a, b), { origin: 'other/x', finality }), 'other log')
  assert.ok(!verifyForkProof(checkpointForkProof(w, a, b)), 'without the witness set no checkpoint proof verifies')
  assert.ok(!verifyForkProof(checkpointForkProof(w, a, cosignCheckpoint(cp(5, 'B'), [k], 2)), { finality }), 'b is not final: a lone cosignature proves nothing')
  assert.ok(!verifyForkProof(checkpointForkProof(w, a, cosignCheckpoint(cp(5, 'A'), both, 3)), { finality }), 'same tree is no fork')
  assert.ok(!verifyForkProof(checkpointForkProof(w, a, cosignCheckpoint(cp(6, 'B'), both, 3)), { finality }), 'different sizes, no epoch')
  assert.ok(verifyForkProof(checkpointForkProof(w, cosignCheckpoint(cp(5, 'A', ['epoch 2']), both, 1), cosignCheckpoint(cp(6, 'B', ['epoch 2']), both, 1)), { finality }), 'same epoch')
  assert.ok(!verifyForkProof(checkpointForkProof(w, a, cosignCheckpoint(cp(5, 'B'), [keys[2]!, keys[0]!], 2)), { finality }), 'b final without the witness')
  assert.ok(!verifyForkProof(checkpointForkProof(witnesses[0]!, a, b), { finality }), 'named witness did not sign')
  const net = sha256Hex('net')
  const s1 = signEpochSet(net, 4, [sha256Hex('e1'), sha256Hex('e2')], k)
  const s2 = signEpochSet(net, 4, [sha256Hex('e1')], k)
  assert.ok(verifyForkProof(epochSetForkProof(s1, s2), { network: net }))
  assert.ok(!verifyForkProof(epochSetForkProof(s1, signEpochSet(net, 5, [], k))), 'different epochs')
  assert.ok(!verifyForkProof(epochSetForkProof(s1, signEpochSet(net, 4, [sha256Hex('e2'), sha256Hex('e1')], k))), 'same set')
  assert.ok(!verifyForkProof(epochSetForkProof(s1, { ...s2, entries: [sha256Hex('zz')] })), 'bad signature')
})
