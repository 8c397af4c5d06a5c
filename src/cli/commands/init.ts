import type { Command } from 'commander'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalJson, loadOrCreateKey, nodeIdOf } from '../../identity/index.js'
import {
  GENESIS_FILE,
  createGenesis,
  loadGenesis,
  networkIdOf,
  readGenesisFile,
  writeGenesis,
  type Genesis,
} from '../../ledger/index.js'
import { GovGenesisSchema } from '../../governance/genesis.js'
import { parseManifest, type ModelManifest } from '../../models/manifest.js'
import { resolveDataDir } from '../../node/datadir.js'
import { DEMO_MODEL_PATH, readManifestBeside } from '../../node/local-models.js'
import { CommandFailedError, UsageError, intFlag } from '../exit.js'

interface InitOptions {
  dataDir?: string
  network: string
  witness: string[]
  member: string[]
  epochMs: number
  threshold?: number
  genesis?: string
  force?: boolean
  json?: boolean
  admit: string[]
  demoModel: boolean
}

const collect = (value: string, previous: string[]): string[] => {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new UsageError(`node id must be 64 lowercase hex characters, got '${value}'`)
  return [...previous, value]
}

const collectPath = (value: string, previous: string[]): string[] => [...previous, value]

/** A manifest file named by `--admit`, validated; a bad one is a usage error naming the file. */
function readManifestFile(path: string): ModelManifest {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--admit ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    return parseManifest(JSON.parse(text))
  } catch (err) {
    throw new UsageError(`--admit ${path}: not a valid model manifest (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`)
  }
}

/**
 * The models a new network admits in its genesis: the shipped demo model (its manifest carries
 * the full provenance, so it is a sound default to start from) unless `--no-demo-model`, and the
 * manifests named by `--admit`, deduplicated by file hash. Later admissions go through proposals.
 */
function genesisModels(opts: InitOptions): ModelManifest[] {
  const models = new Map<string, ModelManifest>()
  if (opts.demoModel) {
    const demo = readManifestBeside(DEMO_MODEL_PATH)
    if (demo.manifest === undefined) throw new CommandFailedError(`the demo model's manifest is unusable: ${demo.manifestError ?? 'missing'} (use --no-demo-model)`)
    models.set(demo.manifest.file.sha256, demo.manifest)
  }
  for (const path of opts.admit) {
    const manifest = readManifestFile(path)
    models.set(manifest.file.sha256, manifest)
  }
  return [...models.values()]
}

/**
 * `commons init`: creates a new network (writes `genesis.json`, this node as its first member and
 * witness unless `--witness/--member` say otherwise) or, with `--genesis FILE`, joins an existing
 * one. Prints the genesis path. Refuses to replace a different existing genesis without --force.
 */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a new network (writes genesis.json into the data dir) or join one with --genesis FILE')
    .option('--data-dir <dir>', 'data directory (default $COMMONS_HOME or ~/.commons)')
    .option('--network <name>', 'network name (new network)', 'commons-local')
    .option('--witness <id>', 'witness node id, repeatable (default: this node)', collect, [])
    .option('--member <id>', 'member node id, repeatable (default: this node)', collect, [])
    .option('--epoch-ms <n>', 'epoch length in ms', intFlag('--epoch-ms', 100, 86_400_000), 5000)
    .option('--threshold <k>', 'cosignatures for finality (default ⌊2n/3⌋+1)', intFlag('--threshold', 1, 10_000))
    .option('--admit <manifest>', 'admit the model a manifest file describes in the genesis, repeatable', collectPath, [])
    .option('--no-demo-model', 'do not admit the shipped demo model in the genesis')
    .option('--genesis <file>', 'join an existing network from its genesis file')
    .option('--force', 'replace an existing, different genesis.json')
    .option('--json', 'print JSON')
    .action((opts: InitOptions) => {
      const dataDir = resolveDataDir(opts.dataDir)
      let genesis: Genesis
      if (opts.genesis !== undefined) {
        if (opts.admit.length > 0 || !opts.demoModel) throw new UsageError('--admit and --no-demo-model apply to a new network; a joined network admits models by proposals')
        genesis = readGenesisFile(opts.genesis)
      } else {
        const models = genesisModels(opts)
        const self = nodeIdOf(loadOrCreateKey(dataDir).publicKey)
        const witnesses = opts.witness.length > 0 ? opts.witness : [self]
        genesis = createGenesis({
          network: opts.network,
          created: Date.now(),
          members: opts.member.length > 0 ? opts.member : [self],
          witnesses,
          ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
          epochMs: opts.epochMs,
          ...(models.length === 0 ? {} : { params: { models } }),
        })
        // The node validates the governance section at start; refuse here what it would refuse then.
        const gov = GovGenesisSchema.safeParse(genesis)
        if (!gov.success) throw new UsageError(`the genesis would be invalid: ${gov.error.issues[0]?.message ?? 'invalid'}`)
      }
      const existing = existsSync(join(dataDir, GENESIS_FILE)) ? loadGenesis(dataDir) : undefined
      if (existing !== undefined && canonicalJson(existing) !== canonicalJson(genesis) && !opts.force) {
        if (opts.genesis === undefined && opts.admit.length === 0 && opts.demoModel) {
          // Re-running plain `init` keeps the network it already created.
          genesis = existing
        } else {
          throw new CommandFailedError(
            `${join(dataDir, GENESIS_FILE)} already holds network ${networkIdOf(existing).slice(0, 16)}…; use --force to replace it`,
          )
        }
      }
      const path = existing !== undefined && genesis === existing ? join(dataDir, GENESIS_FILE) : writeGenesis(dataDir, genesis)
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ genesis: path, network: genesis.network, networkId: networkIdOf(genesis), witnesses: genesis.witnesses.length, threshold: genesis.threshold, models: admittedNames(genesis) })}\n`,
        )
      } else {
        process.stdout.write(`${path}\n`)
      }
    })
}

/** Names of the models a genesis admits (`params.models`, as governance reads them). */
function admittedNames(genesis: Genesis): string[] {
  const gov = GovGenesisSchema.safeParse(genesis)
  return gov.success ? gov.data.params.models.map((m) => m.name) : []
}
