/**
 * Witness finality for the log: Tendermint (one height per epoch) over epoch batches.
 * `WitnessService` is what a witness node runs; the rest is the pure core it is built from.
 */
export {
  stepTendermint,
  initialState,
  proposerOf,
  checkWitnessSet,
  roundSkipThreshold,
  type Step,
  type TimeoutKind,
  type TimeoutSchedule,
  type TendermintConfig,
  type TendermintState,
  type TendermintEvent,
  type TendermintAction,
  type StepResult,
} from './tendermint.js'
export { signConsensusMessage, verifyConsensusMessage, consensusMessageSchema, type ConsensusMessage, type ProposalMessage, type VoteMessage } from './messages.js'
export { MAX_EPOCH_SET_ENTRIES, signEpochSet, verifyEpochSet, type EpochSet, type EpochSetHeader } from './epoch-set.js'
export { buildBatch, validateBatch, checkBatchEntries, censoredEntries, batchId, EpochBatchSchema, type EpochBatch, type BatchTree, type BatchVerdict } from './batch.js'
export { verifyForkProof, epochSetFork, voteFork, forkProofId, ForkProofSchema, type ForkProof, type VoteForkProof } from './fork-proof.js'
export { WitnessCore, WitnessGossipSchema, type WitnessGossip, type WitnessAction, type WitnessSnapshot, type LocalLog } from './witness-core.js'
export { WitnessService, ENTRY_TOPIC, WITNESS_TOPIC, defaultTimeouts, epochEndSeconds, type WitnessEvent, type WitnessServiceOptions, type WitnessPubSub, type RewriteContext } from './witness.js'
export { InvalidWitnessSetError, InvalidForkProofError } from './errors.js'
