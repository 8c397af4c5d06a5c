/**
 * The genesis file: the network's founding document. Its RFC 8785 canonical form hashed with
 * SHA-256 is the network id that every entry names (`entry.network`) and every checkpoint's
 * origin line carries, so changing one byte of it makes a different network.
 *
 * Finality needs k > 2n/3 of the n witnesses (Tendermint tolerates f < n/3 faulty), so a genesis
 * with a lower threshold is rejected.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { canonicalJson, sha256Hex } from '../identity/index.js'
import { BadGenesisError } from './errors.js'
import { Hex32, Uint } from './schemas.js'

/** File name of the genesis inside a data dir. */
export const GENESIS_FILE = 'genesis.json'

/** Network names: short, lowercase, usable in a checkpoint origin line. */
export const NetworkNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, . _ - (max 63)')

/**
 * Initial governance parameters: opaque to the ledger (any JSON object), typed and validated by
 * the governance layer, which owns their meaning. Listed in genesis so they are part of the id.
 */
export const GenesisParamsSchema = z.record(z.string(), z.json())

/** Schema of `genesis.json`. */
export const GenesisSchema = z
  .strictObject({
    v: z.literal(1),
    network: NetworkNameSchema,
    /** ms since the Unix epoch. */
    created: Uint,
    members: z.array(Hex32),
    witnesses: z.array(Hex32).min(1),
    /** k: cosignatures that make a checkpoint final. */
    threshold: Uint.min(1),
    epochMs: Uint.min(100),
    params: GenesisParamsSchema,
  })
  .superRefine((g, ctx) => {
    const n = g.witnesses.length
    if (new Set(g.witnesses).size !== n) ctx.addIssue({ code: 'custom', message: 'duplicate witness', path: ['witnesses'] })
    if (new Set(g.members).size !== g.members.length) ctx.addIssue({ code: 'custom', message: 'duplicate member', path: ['members'] })
    // k > 2n/3 (BFT quorum) and k ≤ n (else nothing is ever final).
    if (!(3 * g.threshold > 2 * n) || g.threshold > n) {
      ctx.addIssue({ code: 'custom', message: `threshold must satisfy 2n/3 < k ≤ n (n = ${n}), got ${g.threshold}`, path: ['threshold'] })
    }
  })

/** A validated genesis. */
export type Genesis = z.infer<typeof GenesisSchema>

/** Smallest threshold allowed for n witnesses: ⌊2n/3⌋ + 1. */
export function minThreshold(n: number): number {
  return Math.floor((2 * n) / 3) + 1
}

/** Validates an untrusted genesis value. @throws BadGenesisError */
export function parseGenesis(value: unknown): Genesis {
  const r = GenesisSchema.safeParse(value)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new BadGenesisError(issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'schema mismatch')
  }
  return r.data
}

/** Options of {@link createGenesis}. */
export interface GenesisOptions {
  readonly network: string
  readonly created: number
  readonly members: readonly string[]
  readonly witnesses: readonly string[]
  /** Default: the smallest valid threshold, ⌊2n/3⌋ + 1. */
  readonly threshold?: number
  readonly epochMs: number
  readonly params?: Record<string, z.infer<ReturnType<typeof z.json>>>
}

/** Builds and validates a genesis. @throws BadGenesisError */
export function createGenesis(opts: GenesisOptions): Genesis {
  return parseGenesis({
    v: 1,
    network: opts.network,
    created: opts.created,
    members: [...opts.members],
    witnesses: [...opts.witnesses],
    threshold: opts.threshold ?? minThreshold(opts.witnesses.length),
    epochMs: opts.epochMs,
    params: opts.params ?? {},
  })
}

/** The network id: hex SHA-256 of the genesis's RFC 8785 canonical JSON. */
export function networkIdOf(genesis: Genesis): string {
  return sha256Hex(canonicalJson(genesis))
}

/** The checkpoint origin line of this network's log: `<name>/<network id>`. */
export function originOf(genesis: Genesis): string {
  return `${genesis.network}/${networkIdOf(genesis)}`
}

/** Reads and validates a genesis file. @throws BadGenesisError */
export function readGenesisFile(path: string): Genesis {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new BadGenesisError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON'}`)
  }
  return parseGenesis(value)
}

/** Loads `<dataDir>/genesis.json`, or undefined if the data dir has none yet. */
export function loadGenesis(dataDir: string): Genesis | undefined {
  const path = join(dataDir, GENESIS_FILE)
  return existsSync(path) ? readGenesisFile(path) : undefined
}

/** Writes `<dataDir>/genesis.json` atomically (temp + fsync + rename); returns its path. */
export function writeGenesis(dataDir: string, genesis: Genesis): string {
  const path = join(dataDir, GENESIS_FILE)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(genesis, null, 2)}\n`, { mode: 0o644 })
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  return path
}
