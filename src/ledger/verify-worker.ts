/**
 * Worker thread body of `verify-pool.ts`: verifies packed chunks of entry bytes (sync, batch
 * appends) and ranges of a stored log read from its SQLite file (`log verify`).
 */
import { parentPort } from 'node:worker_threads'
import { openDatabase, type Db } from '../store/db.js'
import { verifyChunk } from './verify-chunk.js'
import { verifyRange } from './verify-range.js'
import { unpack, type PackedChunk, type RangeRequest } from './verify-wire.js'

parentPort!.on('message', (msg: PackedChunk | RangeRequest) => {
  if ('path' in msg) {
    // A handle per range: opening is cheap next to thousands of signature checks, and a cached
    // one would keep reading a file that was replaced at the same path since.
    let result
    let db: Db | undefined
    try {
      db = openDatabase(msg.path, { readonly: true })
      result = { ok: true as const, value: verifyRange(db, msg.network, msg.from, msg.length, msg.end) }
    } catch (err) {
      result = { ok: false as const, message: (err as Error).message }
    } finally {
      db?.close()
    }
    parentPort!.postMessage({ id: msg.id, range: result })
    return
  }
  const result = verifyChunk(unpack(msg), msg.network)
  parentPort!.postMessage({ id: msg.id, result }, [result.leaves.buffer as ArrayBuffer])
})
