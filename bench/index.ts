/**
 * `npm run bench [-- name…]`: runs the named benchmarks (default: all), each a module
 * `bench/<name>.ts` exporting `run(): Promise<Record<string, unknown>>`. Prints one JSON object
 * per benchmark on stdout; progress and diagnostics go to stderr.
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort()

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const names = requested.length > 0 ? requested : available
for (const name of names) {
  if (!available.includes(name)) {
    process.stderr.write(`error: unknown benchmark '${name}' (available: ${available.join(', ')})\n`)
    process.exit(2)
  }
}
for (const name of names) {
  const mod = (await import(`./${name}.ts`)) as { run: () => Promise<Record<string, unknown>> }
  const result = await mod.run()
  process.stdout.write(`${JSON.stringify({ bench: name, ...result })}\n`)
}
