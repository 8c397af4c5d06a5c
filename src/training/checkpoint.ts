/**
 * Training checkpoints: one file holding the step, the run's identity (configs + data hash),
 * parameters and AdamW moments as raw little-endian float32, written atomically (tmp + rename)
 * so a kill mid-write never leaves a torn checkpoint.
 *
 * Layout: 8-byte magic "CMNSCKP1", u32 header length, header JSON (UTF-8), then for each
 * parameter in `paramShapes` order: weights, then first moment, then second moment.
 */
import { readFileSync, writeFileSync, renameSync, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { z } from 'zod'
import { CheckpointError } from './errors.js'

const MAGIC = 'CMNSCKP1'

/** What a checkpoint's header records. */
export const CheckpointHeaderSchema = z.object({
  /** Number of optimizer steps already applied. */
  step: z.number().int().nonnegative(),
  /** Identifies the run (hash of configs + training data); a mismatch refuses to resume. */
  runId: z.string(),
  names: z.array(z.string()),
  sizes: z.array(z.number().int().nonnegative()),
  /** Per-step training losses so far (for the manifest and curves). */
  losses: z.array(z.number()),
  /** Seconds spent training before this checkpoint (sum over resumed segments). */
  wallSeconds: z.number().nonnegative(),
})
export type CheckpointHeader = z.infer<typeof CheckpointHeaderSchema>

/** A checkpoint in memory. */
export interface Checkpoint {
  header: CheckpointHeader
  params: Map<string, Float32Array>
  m: Map<string, Float32Array>
  v: Map<string, Float32Array>
}

/** Writes `ckpt` to `path` atomically. */
export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  mkdirSync(dirname(path), { recursive: true })
  const header = Buffer.from(JSON.stringify(ckpt.header), 'utf8')
  const parts: Buffer[] = [Buffer.from(MAGIC, 'ascii'), Buffer.alloc(4), header]
  parts[1]!.writeUInt32LE(header.length)
  for (const name of ckpt.header.names) {
    for (const map of [ckpt.params, ckpt.m, ckpt.v]) {
      const a = map.get(name)
      if (!a) throw new CheckpointError(`checkpoint is missing ${name}`)
      parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
    }
  }
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, Buffer.concat(parts))
  renameSync(tmp, path)
}

/** Reads a checkpoint, or returns undefined when there is none at `path`. */
export function loadCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined
  const buf = readFileSync(path)
  if (buf.subarray(0, 8).toString('ascii') !== MAGIC) throw new CheckpointError(`${path} is not a checkpoint`)
  const len = buf.readUInt32LE(8)
  const parsed = CheckpointHeaderSchema.safeParse(JSON.parse(buf.subarray(12, 12 + len).toString('utf8')))
  if (!parsed.success) throw new CheckpointError(`${path}: bad header: ${parsed.error.message}`)
  const header = parsed.data
  let off = 12 + len
  const take = (n: number): Float32Array => {
    if (off + n * 4 > buf.length) throw new CheckpointError(`${path} is truncated`)
    const out = new Float32Array(n)
    new Uint8Array(out.buffer).set(buf.subarray(off, off + n * 4))
    off += n * 4
    return out
  }
  const params = new Map<string, Float32Array>()
  const m = new Map<string, Float32Array>()
  const v = new Map<string, Float32Array>()
  header.names.forEach((name, i) => {
    const n = header.sizes[i]!
    params.set(name, take(n))
    m.set(name, take(n))
    v.set(name, take(n))
  })
  return { header, params, m, v }
}
