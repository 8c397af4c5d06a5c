import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { bytesToHex, type KeyPair } from '../identity/index.js'

/**
 * One identity: the libp2p peer id is derived from the node's own Ed25519 key
 * (`src/identity`), so the node id in the log (hex public key) and the peer id on the wire name
 * the same key and either can be computed from the other.
 */

/** The libp2p private key for a node key pair (libp2p's raw Ed25519 form is seed ‖ public key). */
export function libp2pPrivateKeyOf(keyPair: KeyPair): PrivateKey {
  const raw = new Uint8Array(64)
  raw.set(keyPair.secretKey, 0)
  raw.set(keyPair.publicKey, 32)
  return privateKeyFromRaw(raw)
}

/** The peer id of a node's raw 32-byte Ed25519 public key. */
export function peerIdOf(publicKey: Uint8Array): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey))
}

/**
 * The node id (hex of the raw Ed25519 public key) of a peer, or `undefined` when the peer's key
 * is not Ed25519 (such a peer is not a Commons node).
 */
export function nodeIdOfPeer(peerId: PeerId): string | undefined {
  if (peerId.type !== 'Ed25519') return undefined
  return bytesToHex(peerId.publicKey.raw)
}
