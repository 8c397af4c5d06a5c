// /commons/log/1 over real libp2p hosts on loopback (TCP, noise, yamux): a new node catches up
// from a peer's final checkpoint through the protocol, verifying with worker threads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { LOG_PROTOCOL, LogStore, StreamLogPeer, cosignCheckpoint, originOf, serveLog, syncFrom } from '../../src/ledger/index.js'
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

    // 300 more epochs of one entry each (more batch checkpoints than one answer carries), with
    // empty epochs between: B gets every one of them, in pages, on a new stream.
    const more = notes(genesis, 300, authorKeys[2]!)
    let epoch = 10
    for (const entry of more) {
      const from = a.size()
      a.append([entry])
      for (const e of [epoch, epoch + 1]) {
        a.addCheckpoint(cosignCheckpoint({ origin: originOf(genesis), size: a.size(), root: a.root(), extensions: [`epoch ${e}`, `from ${e === epoch ? from : a.size()}`] }, witnessKeys.slice(0, 3), 1_700_000_000 + e))
      }
      epoch += 2
    }
    const stream2 = await hostB.dialProtocol(hostA.peerId, LOG_PROTOCOL)
    const peer2 = new StreamLogPeer(stream2)
    const r2 = await syncFrom(b, peer2, { threads: 0 })
    await peer2.close()
    assert.deepEqual([r2.status, r2.from, r2.to, r2.checkpoints], ['synced', 3000, 3300, 300])
    const history = (s: LogStore) => s.checkpoints().map((c) => [c.size, c.epoch, c.final])
    assert.deepEqual(history(b), history(a))
    assert.equal(b.latestFinalCheckpoint()!.epoch, epoch - 1)
  } finally {
    await hostB.stop()
    await hostA.stop()
    a.close()
    b.close()
    t.cleanup()
  }
})
