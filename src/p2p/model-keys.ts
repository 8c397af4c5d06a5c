import type { PeerId } from '@libp2p/interface'
import { hexToBytes, sha256, utf8ToBytes } from '../identity/index.js'
import { peerIdOf } from './peer-id.js'

/**
 * DHT keys under which workers announce the models they serve (kad-dht provider records).
 *
 * A model is content-addressed by the sha256 of its file (DESIGN.md "Models"), so its key is the
 * CIDv1 of that digest: multihash sha2-256 (code 0x12, length 32) with the `raw` codec (0x55) —
 * the CID a single-block copy of the file would have (multiformats CID spec,
 * https://github.com/multiformats/cid). A client may also ask for a model by name before this
 * node has seen its hash, so workers announce a second key derived from the name; names are
 * untrusted hints (any worker can claim one), resolved to a hash by the worker's signed
 * capability record once it is reached.
 */

/** The CID type the DHT takes (multiformats `CID`, as libp2p's own interfaces name it). */
export type ModelCid = ReturnType<PeerId['toCID']>

/** Multicodec of raw bytes. */
const RAW_CODEC = 0x55
/** Multihash code of sha2-256. */
const SHA2_256 = 0x12

/** Preimage of the rendezvous key of all workers. */
const WORKERS_KEY_NAME = 'commons/workers/1'

/** Domain of name keys, so a name key never equals a real file's hash. */
const NAME_KEY_DOMAIN = 'commons/model-name/1:'

interface CidFactory {
  create(version: 1, code: number, digest: { code: number; size: number; digest: Uint8Array; bytes: Uint8Array }): ModelCid
}

/**
 * multiformats' `CID` class, taken from a CID libp2p itself made: the package is a dependency of
 * every libp2p module but not one of ours, and this keeps our CIDs the exact class the DHT uses.
 */
const CID = peerIdOf(new Uint8Array(32).fill(1)).toCID().constructor as unknown as CidFactory

function cidOfDigest(digest: Uint8Array): ModelCid {
  if (digest.byteLength !== 32) throw new RangeError('a sha2-256 digest has 32 bytes')
  const bytes = new Uint8Array(34)
  bytes[0] = SHA2_256
  bytes[1] = 32
  bytes.set(digest, 2)
  return CID.create(1, RAW_CODEC, { code: SHA2_256, size: 32, digest: bytes.subarray(2), bytes })
}

/** The DHT key of a model file: CIDv1(raw, sha2-256 = the file's sha256). */
export function modelKey(sha256Hex: string): ModelCid {
  if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new RangeError(`not a sha256 hex digest: ${sha256Hex}`)
  return cidOfDigest(hexToBytes(sha256Hex))
}

/** The DHT key of a model name (a hint; see the module note). */
export function modelNameKey(name: string): ModelCid {
  return cidOfDigest(sha256(utf8ToBytes(NAME_KEY_DOMAIN + name)))
}

/**
 * The rendezvous key every worker announces: a gateway whose peer table is empty (just started,
 * or not listening to capability gossip) finds workers here, then asks each for its record.
 */
export function workersKey(): ModelCid {
  return cidOfDigest(sha256(utf8ToBytes(WORKERS_KEY_NAME)))
}

/** True when `model` (a request's model field) is a sha256 hex digest rather than a name. */
export function isModelHash(model: string): boolean {
  return /^[0-9a-f]{64}$/.test(model)
}
