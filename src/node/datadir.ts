import { mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** Data dir: `--data-dir`, else `COMMONS_HOME`, else `~/.commons`. Created (0700) if missing. */
export function resolveDataDir(flag?: string): string {
  const dir = resolve(flag ?? process.env.COMMONS_HOME ?? join(homedir(), '.commons'))
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return dir
}
