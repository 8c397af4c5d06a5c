/**
 * Worker thread body of `verify-pool.ts`: verifies packed chunks of entry bytes (sync, batch
 * appends) and ranges of a stored log read from its SQLite file (`log verify`).
 */
import { parentPort } from 'node:worker_threads'
import { openDatabase, type Db } from '../store/db.js'
import { verifyChunk } from './verify-chunk.js'
import { verifyRange } from './verify-range.js'
import { unpack, type PackedChunk, type RangeRequest } from './verify-wire.js'

// Read-only handles of the logs being verified; a thread serves one `log verify` at a time in
// practice, so two are kept and the oldest closed.
const open = new Map<string, Db>()
function database(path: string): Db {
  let db = open.get(path)
  if (db === undefined) {
    db = openDatabase(path, { readonly: true })
    open.set(path, db)
    if (open.size > 2) {
      const [oldest, handle] = open.entries().next().value as [string, Db]
      handle.close()
      open.delete(oldest)
    }
  }
  return db
}

parentPort!.on('message', (msg: PackedChunk | RangeRequest) => {
  if ('path' in msg) {
    let result
    try {
      result = { ok: true as const, value: verifyRange(database(msg.path), msg.network, msg.from, msg.length, msg.end) }
    } catch (err) {
      result = { ok: false as const, message: (err as Error).message }
    }
    parentPort!.postMessage({ id: msg.id, range: result })
    return
  }
  const result = verifyChunk(unpack(msg), msg.network)
  parentPort!.postMessage({ id: msg.id, result }, [result.leaves.buffer as ArrayBuffer])
})
