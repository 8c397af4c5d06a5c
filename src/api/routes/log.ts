import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CommonsError } from '../../errors.js'
import { bytesToHex, canonicalBytes } from '../../identity/index.js'
import {
  countingWitnesses,
  decodeEntry,
  parseSignedCheckpoint,
  verifyCosignatures,
  type LogStore,
  type StoredCheckpoint,
} from '../../ledger/index.js'
import { InvalidParameterError } from '../errors.js'

/** No entry at that index or with that hash in this node's log. */
export class EntryNotFoundError extends CommonsError {
  constructor(what: string) {
    super('entry_not_found', `No log entry ${what} in this node's log`, { status: 404 })
  }
}

const IndexParams = z.object({ index: z.coerce.number().int().min(0) })
const HashParams = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters') })
const SizeQuery = z.object({ size: z.coerce.number().int().min(1).optional() })
const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) })
const ConsistencyQuery = z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1).optional() })

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const param = issue?.path.join('.') || where
  throw new InvalidParameterError(param, `Invalid ${param}: ${issue?.message ?? 'invalid value'}`)
}

/** What a checkpoint looks like to a reader: its note plus each witness cosignature, checked. */
function checkpointView(store: LogStore, cp: StoredCheckpoint) {
  // A convicted witness still counts up to the checkpoint that made its conviction final (as in the store).
  const witnesses = countingWitnesses(store.witnessPolicy(), cp)
  const signed = parseSignedCheckpoint(cp.note)
  const check = verifyCosignatures(signed, witnesses)
  const times = [...check.timestamps.values()]
  return {
    size: cp.size,
    root: bytesToHex(cp.root),
    epoch: cp.epoch,
    final: cp.final,
    // The latest cosignature time: when the checkpoint became final (seconds → ms).
    time: times.length > 0 ? Math.max(...times) * 1000 : undefined,
    note: cp.note,
    cosignatures: check.valid.map((witness) => ({ witness, time: check.timestamps.get(witness) })),
  }
}

function entryView(store: LogStore, index: number) {
  const stored = store.entry(index)
  if (stored === undefined) throw new EntryNotFoundError(`#${index}`)
  const canonical = new TextDecoder().decode(stored.bytes)
  return { index: stored.index, hash: stored.hash, canonical, entry: JSON.parse(canonical) as Record<string, unknown> }
}

/**
 * `/api/log/*`: read access to this node's copy of the log — status, final checkpoints with their
 * witness cosignatures, entries, inclusion and consistency proofs — and `POST /api/log/entries` to
 * submit an entry signed by its author. Everything returned here is verifiable by the reader:
 * proofs against cosigned roots (the web UI checks them in the browser with `src/ledger/merkle.ts`).
 */
export function logRoutes(store: () => LogStore | undefined, submit?: (bytes: Uint8Array) => { hash: string; accepted: boolean }) {
  const open = (): LogStore => {
    const s = store()
    if (s === undefined) throw new CommonsError('log_unavailable', 'This node keeps no log', { status: 503 })
    return s
  }
  return async function logPlugin(app: FastifyInstance): Promise<void> {
    app.get('/api/log/status', async () => {
      const s = open()
      const policy = s.witnessPolicy()
      const final = s.latestFinalCheckpoint()
      return {
        network: s.network,
        origin: s.origin,
        size: s.size(),
        root: s.rootHex(),
        finalSize: final?.size ?? 0,
        threshold: policy.threshold,
        witnesses: policy.witnesses,
        pending: s.pending().length,
      }
    })

    app.get('/api/log/checkpoints', async (req) => {
      const { limit } = parse(LimitQuery, req.query, 'limit')
      const s = open()
      const finals = s.checkpoints().filter((c) => c.final)
      return { checkpoints: finals.slice(-limit).reverse().map((c) => checkpointView(s, c)) }
    })

    app.get('/api/log/entries/by-hash/:hash', async (req) => {
      const { hash } = parse(HashParams, req.params, 'hash')
      const s = open()
      const index = s.indexOf(hash)
      if (index === undefined) throw new EntryNotFoundError(`with hash ${hash}`)
      return entryView(s, index)
    })

    app.get('/api/log/entries/:index', async (req) => {
      const { index } = parse(IndexParams, req.params, 'index')
      return entryView(open(), index)
    })

    app.get('/api/log/proof/:index', async (req) => {
      const { index } = parse(IndexParams, req.params, 'index')
      const { size: requested } = parse(SizeQuery, req.query, 'size')
      const s = open()
      const size = requested ?? s.size()
      if (size > s.size()) throw new InvalidParameterError('size', `size ${size} is beyond this log's size ${s.size()}`)
      if (index >= size) throw new EntryNotFoundError(`#${index} in the tree of size ${size}`)
      return { index, size, root: bytesToHex(s.treeHash(size)), proof: s.inclusionProof(index, size).map(bytesToHex) }
    })

    app.get('/api/log/consistency', async (req) => {
      const { from, to: requested } = parse(ConsistencyQuery, req.query, 'from')
      const s = open()
      const to = requested ?? s.size()
      if (from > to || to > s.size()) throw new InvalidParameterError('to', `need 1 ≤ from ≤ to ≤ ${s.size()}`)
      return { from, to, proof: s.consistencyProof(from, to).map(bytesToHex) }
    })

    if (submit !== undefined) {
      app.post('/api/log/entries', async (req, reply) => {
        const s = open()
        // The entry arrives as JSON; its RFC 8785 form is what the author signed and what is hashed.
        const decoded = decodeEntry(canonicalBytes(req.body), s.network)
        const result = submit(decoded.bytes)
        return reply.code(result.accepted ? 202 : 200).send(result)
      })
    }
  }
}
