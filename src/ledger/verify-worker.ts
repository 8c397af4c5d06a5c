/** Worker thread body of `verify-pool.ts`: verifies packed chunks posted by the pool. */
import { parentPort, workerData } from 'node:worker_threads'
import { verifyChunk } from './verify-chunk.js'
import { unpack, type PackedChunk } from './verify-pool.js'

const { network } = workerData as { network: string }
parentPort!.on('message', (chunk: PackedChunk) => {
  const result = verifyChunk(unpack(chunk), network)
  parentPort!.postMessage({ id: chunk.id, result }, [result.leaves.buffer as ArrayBuffer])
})
