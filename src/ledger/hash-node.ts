/**
 * RFC 9162 §2.1.1 leaf and node hashes through OpenSSL (node:crypto, one-shot `hash`), for the node's bulk paths
 * (append, `log verify`, sync, integrity check on open). Same bytes as `merkle.ts`, which stays
 * pure and browser-safe on @noble/hashes; OpenSSL is ~2x faster per 65-byte node hash here.
 */
import { hash } from 'node:crypto'
import type { Hash } from './merkle.js'

const LEAF_PREFIX = new Uint8Array([0x00])
// One input buffer reused for every node hash (hashing is synchronous: no call sees another's bytes).
const nodeInput = new Uint8Array(65)
nodeInput[0] = 0x01

/** HASH(0x00 || data). */
export function leafHashNode(data: Uint8Array): Hash {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer')
}

/** HASH(0x01 || left || right). */
export function nodeHashNode(left: Hash, right: Hash): Hash {
  nodeInput.set(left, 1)
  nodeInput.set(right, 33)
  return hash('sha256', nodeInput, 'buffer')
}
