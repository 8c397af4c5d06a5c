#!/usr/bin/env node
// Entry point: install the Node 20 polyfill, register the TypeScript loader, then hand over to the CLI.
import '../src/polyfill.js'
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv)
