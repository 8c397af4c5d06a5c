/**
 * Child process of `bench/log.ts`: the peer a new node syncs from. Opens the log in `argv[2]`
 * (genesis beside it), serves `/commons/log/1` on a libp2p host on loopback, prints
 * `{"peerId","addr"}` as one JSON line on stdout, and runs until stdin closes or SIGTERM.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { keyPairFromSecret } from '../src/identity/index.js'
import { LOG_PROTOCOL, LogStore, serveLog, type Genesis } from '../src/ledger/index.js'
import { createHost } from '../src/p2p/index.js'

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: _log-serve.ts <log dir>')
const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')) as Genesis
const store = LogStore.open(join(dir, 'commons.db'), { genesis, verifyOnOpen: false, readonly: true })
const host = await createHost({ keyPair: keyPairFromSecret(new Uint8Array(32).fill(31)), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
await host.handle(LOG_PROTOCOL, (stream) => serveLog(store, stream))
process.stdout.write(`${JSON.stringify({ peerId: host.peerId.toString(), addr: host.getMultiaddrs()[0]!.toString() })}\n`)

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await host.stop()
  store.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.stdin.on('end', () => void stop())
process.stdin.resume()
