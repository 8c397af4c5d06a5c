/**
 * The Commons log: signed entries, the RFC 9162 Merkle tree, C2SP checkpoints with witness
 * cosignatures, the SQLite-backed log store, and sync. Import from here.
 */
export * from './errors.js'
export { HASH_SIZE, leafHash, nodeHash, emptyRoot, rootHash, inclusionProof, verifyInclusion, consistencyProof, verifyConsistency, type Hash } from './merkle.js'
export {
  TreeAppender,
  MemoryHashStore,
  treeHashFromStore,
  inclusionProofFromStore,
  consistencyProofFromStore,
  storedHashIndex,
  storedHashCount,
  type HashReader,
  type StoredHash,
} from './tree.js'
export { KINDS, isKnownKind, bodySchemaOf, NoteBody, ForkProofBody, type Kind, type BodyOf } from './kinds.js'
export {
  MAX_ENTRY_BYTES,
  EntryEnvelopeSchema,
  signEntry,
  signAndEncodeEntry,
  decodeEntry,
  encodeEntry,
  entryHash,
  entrySigningBytes,
  parseStoredEntry,
  type Entry,
  type KindEntry,
  type UnsignedEntry,
  type EntryDraft,
  type DecodedEntry,
} from './entry.js'
export {
  GENESIS_FILE,
  GenesisSchema,
  createGenesis,
  parseGenesis,
  networkIdOf,
  originOf,
  minThreshold,
  loadGenesis,
  readGenesisFile,
  writeGenesis,
  type Genesis,
  type GenesisOptions,
} from './genesis.js'
export { MAX_EPOCH_SET_ENTRIES, SignedEpochSetSchema, signEpochSet, verifyEpochSet, type SignedEpochSet } from './epoch-set.js'
export {
  COSIGNATURE_V1_TYPE,
  formatCheckpoint,
  parseCheckpoint,
  formatSignedNote,
  parseSignedCheckpoint,
  witnessKeyName,
  noteKeyId,
  cosign,
  cosignCheckpoint,
  addCosignatures,
  verifyCosignatures,
  isFinal,
  epochOf,
  batchStartOf,
  rootHex,
  type Checkpoint,
  type NoteSignature,
  type SignedCheckpoint,
  type CosignatureCheck,
} from './checkpoint.js'
export { verifyForkProof, checkpointForkProof, epochSetForkProof, voteForkProof, type ForkProof, type ForkProofContext } from './fork-proof.js'
export { ConvictionTracker, convictedBy, countsAt, type CheckpointPlace, type Conviction, type ConvictionContext, type Convictions } from './convictions.js'
export {
  LogStore,
  countingWitnesses,
  type LogStoreOptions,
  type StoredEntry,
  type StoredCheckpoint,
  type AppendResult,
  type AppendableEntry,
  type WitnessPolicy,
} from './log-store.js'
export { verifyLog, type VerifyReport, type VerifyFailure, type VerifyOptions } from './audit.js'
export { EntryVerifierPool, chunkVerifierFor, sharedVerifierPool, type ChunkVerifier } from './verify-pool.js'
export { verifyChunk, type ChunkItem, type ChunkResult } from './verify-chunk.js'
export {
  LOG_PROTOCOL,
  MAX_RANGE,
  serveLog,
  syncFrom,
  StreamLogPeer,
  type LogPeer,
  type LogStream,
  type SyncResult,
  type SyncOptions,
} from './sync.js'
