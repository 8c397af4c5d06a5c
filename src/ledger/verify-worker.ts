/** Worker thread body of `verify-pool.ts`: verifies packed chunks posted by the pool. */
import { parentPort } from 'node:worker_threads'
import { verifyChunk } from './verify-chunk.js'
import { unpack, type PackedChunk } from './verify-wire.js'

parentPort!.on('message', (chunk: PackedChunk) => {
  const result = verifyChunk(unpack(chunk), chunk.network)
  parentPort!.postMessage({ id: chunk.id, result }, [result.leaves.buffer as ArrayBuffer])
})
