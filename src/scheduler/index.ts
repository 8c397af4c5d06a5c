/** Public interface of the scheduler: the swarm inference service, its policy, receipts. */
export { SwarmInferenceService, type SwarmServiceOptions } from './swarm-service.js'
export { chooseWorker, expectedCostMs, DEFAULT_TOKENS_PER_SECOND, type WorkerView } from './policy.js'
export { WorkerStats, type WorkerObservation } from './worker-stats.js'
export { ReceiptStore, importLegacyReceipts, LEGACY_RECEIPTS_FILE, RECEIPTS_COMPONENT, RECEIPT_MIGRATIONS, type StoredReceipt } from './receipts.js'
export { NoWorkerError, JobFailedError } from './errors.js'
export { SwarmNode, type SwarmNodeOptions, type PeersReport, type PeerReport } from './swarm-node.js'
export { MeteredService } from './metered-service.js'
