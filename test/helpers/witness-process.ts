/**
 * A witness process for the multi-process tests (real libp2p on 127.0.0.1, real SQLite):
 *
 *   node --import ./src/polyfill.js --import tsx test/helpers/witness-process.ts \
 *     --data-dir DIR --genesis FILE --secret HEX [--port N] [--bootstrap MA,MA…] \
 *     [--test-only-byzantine equivocate|censor --censor HASH]
 *
 * stdout: one JSON object per line — `{"event":"ready","addrs":[…]}`, then the service's events
 * (`height-started`, `decided`, `fork-proof`, `entry`, `error`) and answers to commands.
 * stdin: one JSON command per line — `{"submit":"<base64 entry bytes>"}`.
 * SIGTERM stops cleanly; the tests also SIGKILL it to simulate a crash.
 */
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { hexToBytes, keyPairFromSecret } from '../../src/identity/index.js'
import { readGenesisFile } from '../../src/ledger/genesis.js'
import { LogStore } from '../../src/ledger/log-store.js'
import { createHost } from '../../src/p2p/index.js'
import { WitnessService, type WitnessPubSub } from '../../src/ledger/consensus/witness.js'
import { censoringRewrite, equivocatingRewrite } from './witness-byzantine.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    genesis: { type: 'string' },
    secret: { type: 'string' },
    port: { type: 'string', default: '0' },
    bootstrap: { type: 'string', default: '' },
    'test-only-byzantine': { type: 'string' },
    censor: { type: 'string' },
  },
})

const print = (value: object): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

const dataDir = values['data-dir']!
const genesis = readGenesisFile(values.genesis!)
const keys = keyPairFromSecret(hexToBytes(values.secret!))
const store = LogStore.open(join(dataDir, 'commons.db'), { genesis })
const host = await createHost({
  keyPair: keys,
  listen: [`/ip4/127.0.0.1/tcp/${values.port}`],
  bootstrap: values.bootstrap === '' ? [] : values.bootstrap!.split(','),
  mdns: false,
})

const mode = values['test-only-byzantine']
const rewrite =
  mode === 'equivocate'
    ? equivocatingRewrite(keys)
    : mode === 'censor'
      ? censoringRewrite(keys, values.censor!, genesis.threshold, (height) => print({ event: 'censored', height }))
      : undefined

const service = new WitnessService({
  store,
  keys,
  pubsub: host.services.pubsub as unknown as WitnessPubSub,
  dataDir,
  onEvent: (event) => print({ event: event.kind, ...event }),
  ...(rewrite === undefined ? {} : { testOnlyRewriteOutgoing: rewrite }),
})
service.start()
print({ event: 'ready', addrs: host.getMultiaddrs().map((m) => m.toString()) })

createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    const command = JSON.parse(line) as { submit?: string; status?: boolean }
    if (command.status === true) print({ event: 'status', ...service.status(), peers: host.getPeers().length })
    if (command.submit !== undefined) print({ event: 'submitted', hash: service.submit(new Uint8Array(Buffer.from(command.submit, 'base64'))) })
  } catch (err) {
    print({ event: 'error', message: (err as Error).message })
  }
})

let stopping = false
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  service.stop()
  void Promise.resolve(host.stop()).finally(() => {
    store.close()
    process.exit(0)
  })
})
