// Shared fixtures for ledger tests: fixed witness/author keys, a 4-witness k=3 genesis, signed
// note entries, and a helper that appends a batch and has witnesses cosign the checkpoint.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, keyPairFromSecret, type KeyPair } from '../../src/identity/index.js'
import {
  cosignCheckpoint,
  createGenesis,
  decodeEntry,
  encodeEntry,
  networkIdOf,
  originOf,
  signEntry,
  type DecodedEntry,
  type ForkProof,
  type Genesis,
  type LogStore,
} from '../../src/ledger/index.js'

/** Fixed keys: witnesses 0..3, authors 10.. (deterministic so failures reproduce). */
export const witnessKeys: KeyPair[] = [1, 2, 3, 4].map((i) => keyPairFromSecret(new Uint8Array(32).fill(i)))
export const authorKeys: KeyPair[] = [10, 11, 12].map((i) => keyPairFromSecret(new Uint8Array(32).fill(i)))

export function testGenesis(): Genesis {
  return createGenesis({
    network: 'testnet',
    created: 1_700_000_000_000,
    members: authorKeys.map((k) => bytesToHex(k.publicKey)),
    witnesses: witnessKeys.map((k) => bytesToHex(k.publicKey)),
    epochMs: 1000,
  })
}

/** `count` signed note entries from `author`, seqs starting at `firstSeq`. */
export function notes(genesis: Genesis, count: number, author = authorKeys[0]!, firstSeq = 1): DecodedEntry[] {
  const network = networkIdOf(genesis)
  return Array.from({ length: count }, (_, i) =>
    decodeEntry(encodeEntry(signEntry({ network, kind: 'note', seq: firstSeq + i, time: 1_700_000_000_000 + i, body: { text: `note ${firstSeq + i}` } }, author)), network),
  )
}

/** A `fork-proof` entry carrying `proof`, signed by `author`. */
export function forkProofEntry(genesis: Genesis, proof: ForkProof, author = authorKeys[1]!, seq = 1): DecodedEntry {
  const network = networkIdOf(genesis)
  return decodeEntry(encodeEntry(signEntry({ network, kind: 'fork-proof', seq, time: 1_700_000_000_000, body: proof }, author)), network)
}

/**
 * Two different trees of one size for `epoch`, each made final (k = 3 cosignatures) with witness
 * `w` (index into witnessKeys) among the signers: a checkpoint fork proof against `w`.
 */
export function checkpointFork(genesis: Genesis, w: number, epoch: number): ForkProof {
  const origin = originOf(genesis)
  const signers = [w, ...[0, 1, 2, 3].filter((i) => i !== w).slice(0, 2)].map((i) => witnessKeys[i]!)
  const note = (fill: number) => cosignCheckpoint({ origin, size: 1, root: new Uint8Array(32).fill(fill), extensions: [`epoch ${epoch}`] }, signers, 1)
  return { type: 'checkpoint', witness: bytesToHex(witnessKeys[w]!.publicKey), a: note(1), b: note(2) }
}

/** Cosigns the store's current tree with the first `k` witnesses and stores the checkpoint. */
export function finalize(store: LogStore, k = 3, epoch?: number): string {
  const note = cosignCheckpoint(
    { origin: originOf(store.genesis), size: store.size(), root: store.root(), extensions: epoch === undefined ? [] : [`epoch ${epoch}`] },
    witnessKeys.slice(0, k),
    1_700_000_000 + store.size(),
  )
  store.addCheckpoint(note)
  return note
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
