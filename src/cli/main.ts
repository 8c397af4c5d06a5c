import { Command, CommanderError } from 'commander'
import { CommonsError } from '../errors.js'
import { CommandFailedError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './exit.js'
import { registerKeys } from './commands/keys.js'
import { registerInit } from './commands/init.js'
import { registerLog } from './commands/log.js'
import { registerStart } from './commands/start.js'
import { registerGenerate } from './commands/generate.js'
import { registerModels } from './commands/models.js'
import { registerSwarm } from './commands/swarm.js'
import { registerPeers } from './commands/peers.js'
import { registerGov } from './commands/gov.js'

/** Builds the `commons` program. Each command lives in `commands/<name>.ts` and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('commons')
    .description('Commons: a decentralized network serving open models, governed in the open')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  registerKeys(program)
  registerInit(program)
  registerLog(program)
  registerStart(program)
  registerGenerate(program)
  registerModels(program)
  registerSwarm(program)
  registerPeers(program)
  registerGov(program)
  for (const cmd of program.commands) inheritBehaviour(cmd)
  return program
}

function inheritBehaviour(cmd: Command): void {
  cmd.exitOverride()
  for (const sub of cmd.commands) inheritBehaviour(sub)
}

/** Runs the CLI and returns the process exit code: 0 ok, 1 failure, 2 bad usage. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync([...argv])
    return EXIT_OK
  } catch (err) {
    return exitCodeFor(err)
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return EXIT_OK
    }
    // commander already printed its message; a UsageError thrown from an option parser arrives wrapped.
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`)
    return EXIT_USAGE
  }
  if (err instanceof CommandFailedError) {
    process.stderr.write(`error: ${err.message}\n`)
    return err.exitCode
  }
  if (err instanceof CommonsError) {
    process.stderr.write(`error: ${err.message}\n`)
    return EXIT_FAILURE
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`)
  if (process.env.COMMONS_DEBUG) console.error(err)
  return EXIT_FAILURE
}
