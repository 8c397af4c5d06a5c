// /commons/log/1 over real libp2p hosts on loopback (TCP, noise, yamux): a new node catches up
// from a peer's final checkpoint through the protocol, verifying with worker threads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { LOG_PROTOCOL, LogStore, StreamLogPeer, serveLog, syncFrom } from '../../src/ledger/index.js'
import { createHost } from '../../src/p2p/index.js'
import { authorKeys, finalize, notes, tempDir, testGenesis, witnessKeys } from '../unit/ledger-helpers.js'

test('a new node syncs a peer\'s final log over /commons/log/1 on loopback', async () => {
  const t = tempDir('commons-p2psync-')
  const genesis = testGenesis()
  const a = LogStore.open(join(t.dir, 'a.db'), { genesis })
  const b = LogStore.open(join(t.dir, 'b.db'), { genesis })
  const hostA = await createHost({ keyPair: witnessKeys[0]!, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  const hostB = await createHost({ keyPair: witnessKeys[1]!, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  try {
    const all = [...notes(genesis, 1500, authorKeys[0]!), ...notes(genesis, 1500, authorKeys[1]!)]
    a.append(all.slice(0, 2000))
    finalize(a)
    a.append(all.slice(2000))
    finalize(a)
    await hostA.handle(LOG_PROTOCOL, (stream) => serveLog(a, stream))
    await hostB.dial(hostA.getMultiaddrs()[0]!)
    const stream = await hostB.dialProtocol(hostA.peerId, LOG_PROTOCOL)
    const peer = new StreamLogPeer(stream)
    const r = await syncFrom(b, peer, { rangeSize: 1000, threads: 2 })
    // A second request on the same stream: nothing new.
    const again = await syncFrom(b, peer, { threads: 0 })
    await peer.close()
    assert.deepEqual([r.status, r.from, r.to], ['synced', 0, 3000])
    assert.equal(again.status, 'up-to-date')
    assert.equal(b.rootHex(), a.rootHex())
    assert.equal(b.latestFinalCheckpoint()?.size, 3000)
    assert.equal(b.entry(2999)!.hash, a.entry(2999)!.hash)
  } finally {
    await hostB.stop()
    await hostA.stop()
    a.close()
    b.close()
    t.cleanup()
  }
})
