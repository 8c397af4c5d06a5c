/**
 * RFC 9162 §2.1.1 leaf and node hashes through OpenSSL (node:crypto), for the node's bulk paths
 * (append, `log verify`, sync, integrity check on open). Same bytes as `merkle.ts`, which stays
 * pure and browser-safe on @noble/hashes; OpenSSL is ~2x faster per 65-byte node hash here.
 */
import { createHash } from 'node:crypto'
import type { Hash } from './merkle.js'

const LEAF_PREFIX = new Uint8Array([0x00])
const NODE_PREFIX = new Uint8Array([0x01])

/** HASH(0x00 || data). */
export function leafHashNode(data: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest()
}

/** HASH(0x01 || left || right). */
export function nodeHashNode(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest()
}
