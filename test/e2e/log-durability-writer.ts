// Child process of log-durability.slow.test.ts: appends batches of entries to a LogStore and
// prints "ack <size>" after each append returns (= the batch is acknowledged as durable).
import { join } from 'node:path'
import { LogStore } from '../../src/ledger/index.js'
import { authorKeys, notes, testGenesis } from '../unit/ledger-helpers.js'

const dir = process.argv[2]!
const genesis = testGenesis()
const store = LogStore.open(join(dir, 'commons.db'), { genesis })
const all = notes(genesis, 4000, authorKeys[2]!)
for (let i = store.size(); i < all.length; i += 20) {
  const r = store.append(all.slice(i, i + 20))
  process.stdout.write(`ack ${r.size}\n`)
}
store.close()
