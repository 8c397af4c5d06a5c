#!/usr/bin/env node
// The whole suite: type-check, then every *.test.ts under test/ through Node's own test runner
// (TypeScript via tsx). Pass paths to run a subset: `npm test -- test/unit/merkle.test.ts`.
// Slow multi-process suites are named *.slow.test.ts; they run too, after the fast ones.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function findTests(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...findTests(path))
    else if (name.endsWith('.test.ts')) out.push(relative(root, path))
  }
  return out.sort()
}

const args = process.argv.slice(2)
const files = args.length > 0 ? args : findTests(join(root, 'test'))
const fast = files.filter((f) => !f.endsWith('.slow.test.ts'))
const slow = files.filter((f) => f.endsWith('.slow.test.ts'))

if (args.length === 0) {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (tsc.status !== 0) {
    console.error('typecheck failed')
    process.exit(1)
  }
}

// One node --test run, so the runner prints a single summary that CI can count. Files run one at
// a time (2-core machines; the multi-process suites need the cores). A native handle left open
// (a llama.cpp instance, a socket) must not hang the whole suite: --test-force-exit ends each file
// once its tests are done, and no single test may run longer than 5 minutes.
const ordered = [...fast, ...slow]
const run = spawnSync(
  process.execPath,
  [
    '--import',
    './src/polyfill.js',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-force-exit',
    '--test-timeout=300000',
    '--test-reporter=spec',
    ...ordered,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
)
process.exit(run.status ?? 1)
