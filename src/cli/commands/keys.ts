import type { Command } from 'commander'
import { loadOrCreateKey, nodeIdOf } from '../../identity/index.js'
import { resolveDataDir } from '../../node/datadir.js'
import { join } from 'node:path'

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage the node identity (Ed25519 key)')
  keys
    .command('show')
    .description('print the node id (creates the key on first use)')
    .option('--data-dir <dir>', 'data directory (default $COMMONS_HOME or ~/.commons)')
    .option('--json', 'print JSON')
    .action((opts: { dataDir?: string; json?: boolean }) => {
      const dataDir = resolveDataDir(opts.dataDir)
      const pair = loadOrCreateKey(dataDir)
      const id = nodeIdOf(pair.publicKey)
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ nodeId: id, keyFile: join(dataDir, 'key.json') })}\n`)
      } else {
        process.stdout.write(`${id}\n`)
      }
    })
}
