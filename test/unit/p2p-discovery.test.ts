// Model discovery over kad-dht: DHT keys (CID of the model file's sha256, published vector), and a
// gateway that does not listen to capability gossip finding a worker it is not connected to through
// the DHT (rendezvous key and per-model provider records), fetching its signed record, running a job.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { bytesToHex, generateKeyPair, sha256Hex } from '../../src/identity/index.js'
import { listenAddrs, peerIdOf } from '../../src/p2p/index.js'
import { isModelHash, modelKey, modelNameKey, workersKey } from '../../src/p2p/model-keys.js'
import { SwarmNode } from '../../src/scheduler/swarm-node.js'
import { FAKE_SHA, FakeInferenceService, fakeParams, fakeText } from './swarm-fakes.js'
import type { InferenceRequest } from '../../src/runtime/service.js'

test('a model key is the CIDv1 (raw, sha2-256) of the file hash; name and rendezvous keys are distinct', () => {
  // Published vector: the CIDv1 raw block of the bytes "hello world" (IPFS docs, `ipfs add --cid-version 1 --raw-leaves`).
  const hello = sha256Hex(new TextEncoder().encode('hello world'))
  assert.equal(hello, 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9')
  assert.equal(modelKey(hello).toString(), 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
  assert.equal(modelKey(hello).multihash.bytes.length, 34)
  assert.notEqual(modelNameKey('tiny').toString(), modelNameKey('tiny2').toString())
  assert.notEqual(modelNameKey('commons/workers/1').toString(), workersKey().toString())
  assert.throws(() => modelKey('xyz'), RangeError)
  assert.equal(isModelHash(hello), true)
  assert.equal(isModelHash('commons-demo'), false)
})

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) return 0
  const values = (await metric.get()).values
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0)
}

function swarmNode(opts: { worker?: FakeInferenceService; bootstrap?: string[]; gossip?: boolean }) {
  const keyPair = generateKeyPair()
  const nodeId = bytesToHex(keyPair.publicKey)
  const registry = new Registry()
  const n = new SwarmNode({
    keyPair, nodeId, registry, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false, capabilityIntervalMs: 300,
    ...(opts.gossip === undefined ? {} : { capabilityGossip: opts.gossip }),
    ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }),
    ...(opts.worker === undefined ? {} : { local: opts.worker, localStats: () => ({ parallel: 2, activeSlots: 0, queueDepth: 0, maxQueue: 8 }) }),
  })
  return { n, nodeId, registry }
}

const req = (model: string, seed: number): InferenceRequest => ({ model, prompt: { kind: 'completion', prompt: 'hi' }, params: fakeParams({ seed, maxTokens: 6 }) })

test('a gateway deaf to gossip, connected only to a bootstrap node, finds the worker through the DHT and runs jobs on it', async (t) => {
  const boot = swarmNode({})
  await boot.n.start()
  const bootAddr = [boot.n.host.getMultiaddrs()[0]!.toString()]
  const w = swarmNode({ worker: new FakeInferenceService('w'), bootstrap: bootAddr })
  const gw = swarmNode({ bootstrap: bootAddr, gossip: false })
  await w.n.start()
  await gw.n.start()
  t.after(async () => {
    await gw.n.stop()
    await w.n.stop()
    await boot.n.stop()
  })
  // The bootstrap node (gossip on) hears the worker's record; the gateway never gets it by gossip.
  await until('the worker announced on the DHT', () => (boot.n.gossip?.peers().length ?? 0) === 1)

  // 1. Rendezvous: the gateway's empty peer table makes it look up all workers on the DHT.
  await until('the gateway learned the worker', () => gw.n.gossip?.get(w.nodeId) !== undefined)
  // (The lookup is counted when it ends, a moment after the record arrived.)
  for (let i = 0; i < 100 && (await counter(gw.registry, 'commons_dht_lookups_total', { key: 'workers', outcome: 'found' })) < 1; i++) await new Promise((r) => setTimeout(r, 50))
  assert.ok((await counter(gw.registry, 'commons_dht_lookups_total', { key: 'workers', outcome: 'found' })) >= 1)
  assert.deepEqual(gw.n.service.listModels().map((m) => m.info.sha256), [FAKE_SHA])

  // 2. Per model: with no fresh record (forgotten), a job for the model by name, then by file hash,
  //    looks up that model's provider records, fetches the worker's record and runs there.
  for (const [i, model] of ['fake', FAKE_SHA].entries()) {
    gw.n.gossip?.forget(w.nodeId)
    const before = await counter(gw.registry, 'commons_dht_lookups_total', { key: 'model', outcome: 'found' })
    const result = await gw.n.service.generate(req(model, i))
    assert.equal(result.servedBy, w.nodeId)
    assert.equal(result.text, fakeText(i, 6))
    assert.ok(result.receiptId !== undefined && gw.n.receipts?.get(result.receiptId) !== undefined, 'verified receipt kept')
    assert.equal(await counter(gw.registry, 'commons_dht_lookups_total', { key: 'model', outcome: 'found' }), before + 1)
  }
  // The gateway's gossip stayed off: every record it took came over /commons/capability/1.
  assert.equal(await counter(gw.registry, 'commons_capability_records_dropped_total', {}), 0)
  assert.ok((await counter(w.registry, 'commons_dht_announcements_total', { outcome: 'reached' })) >= 3, 'rendezvous, hash and name keys')
  // A record handed over directly by a peer that is not its signer (a provider relaying or lying
  // about another worker) is refused as forged and counted.
  const relayed = w.n.gossip?.signedRecordBytes()
  assert.ok(relayed !== undefined)
  assert.equal(gw.n.gossip?.acceptDirect(relayed, boot.n.host.peerId), 'forged')
  assert.equal(await counter(gw.registry, 'commons_capability_records_dropped_total', { reason: 'forged' }), 1)

  // 3. A model nobody provides: the DHT finds nothing and the job fails fast with 503.
  const t0 = Date.now()
  await assert.rejects(gw.n.service.generate(req('nobody-serves-this', 1)), (err: { status?: number }) => err.status === 503)
  assert.ok(Date.now() - t0 < 2_000, `503 took ${Date.now() - t0} ms`)
  assert.equal(peerIdOf(Buffer.from(w.nodeId, 'hex')).toString(), w.n.host.peerId.toString())
})
