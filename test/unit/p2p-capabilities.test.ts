import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { bytesToHex, generateKeyPair } from '../../src/identity/index.js'
import { createHost, listenAddrs, CAPABILITY_TOPIC, peerIdOf } from '../../src/p2p/index.js'
import { CapabilityGossip } from '../../src/p2p/capabilities.js'
import { signCapability, verifyCapability, type CapabilityRecord } from '../../src/p2p/capability-record.js'
import { createP2pMetrics } from '../../src/p2p/p2p-metrics.js'

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('capability records: genuine ones fill the peer table; malformed, forged, stale and unsigned ones are dropped and counted', async (t) => {
  const registry = new Registry()
  const metrics = createP2pMetrics(registry)
  const kA = generateKeyPair()
  const kW = generateKeyPair()
  const kR = generateKeyPair()
  const a = await createHost({ keyPair: kA, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false })
  const boot = [a.getMultiaddrs()[0]!.toString()]
  const w = await createHost({ keyPair: kW, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false, bootstrap: boot })
  const r = await createHost({ keyPair: kR, listen: listenAddrs('127.0.0.1', 0).slice(0, 1), mdns: false, bootstrap: boot })
  const gossipA = new CapabilityGossip({ host: a, keyPair: kA, metrics, intervalMs: 200 })
  const gossipW = new CapabilityGossip({
    host: w, keyPair: kW, metrics: createP2pMetrics(new Registry()), intervalMs: 200,
    snapshot: () => ({ models: [{ sha256: 'cd'.repeat(32), name: 'm', contextSize: 256 }], freeSlots: 3, parallel: 4, queueDepth: 0, tokensPerSecond: 12.5 }),
  })
  t.after(async () => {
    gossipA.stop()
    gossipW.stop()
    await r.stop()
    await w.stop()
    await a.stop()
  })
  gossipA.start()
  gossipW.start()
  r.services.pubsub.subscribe(CAPABILITY_TOPIC)

  await until('the honest worker in the table', () => gossipA.get(bytesToHex(kW.publicKey)) !== undefined)
  const entry = gossipA.get(bytesToHex(kW.publicKey))!
  assert.equal(entry.record.freeSlots, 3)
  assert.equal(entry.record.models[0]!.name, 'm')
  assert.equal(entry.peerId.toString(), w.peerId.toString())
  assert.ok(entry.record.addrs.every((x) => x.endsWith(`/p2p/${w.peerId.toString()}`)))

  const record = (nodeId: string, timestamp = Date.now()): CapabilityRecord => ({
    nodeId, addrs: [], models: [{ sha256: 'ef'.repeat(32), name: 'x', contextSize: 128 }], freeSlots: 1, parallel: 1, queueDepth: 0, tokensPerSecond: 1, version: 't', timestamp,
  })
  const publish = (obj: unknown): Promise<unknown> => r.services.pubsub.publish(CAPABILITY_TOPIC, new TextEncoder().encode(typeof obj === 'string' ? obj : JSON.stringify(obj)))
  const dropped = async (reason: string): Promise<number> => (await metrics.capabilityDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0

  await until('the rogue subscribed at the gateway', () => r.services.pubsub.getSubscribers(CAPABILITY_TOPIC).length > 0)
  // A genuine record from R is accepted (its key, its signature, fresh).
  await publish(signCapability(record(bytesToHex(kR.publicKey)), kR))
  await until('R accepted', () => gossipA.get(bytesToHex(kR.publicKey)) !== undefined)

  const kX = generateKeyPair()
  await publish('{"record": not json')
  await publish({ record: { ...record(bytesToHex(kR.publicKey)), freeSlots: -5 }, signature: '00'.repeat(64) })
  // Forged: R relays a record in X's name, correctly signed by X — but R is not X.
  await publish(signCapability(record(bytesToHex(kX.publicKey)), kX))
  // Forged: R's own id with a signature by another key.
  const bad = signCapability(record(bytesToHex(kR.publicKey), Date.now() + 1), kX)
  await publish(bad)
  // Stale: signed correctly but a minute old.
  await publish(signCapability(record(bytesToHex(kR.publicKey), Date.now() - 60_000), kR))
  for (let i = 0; i < 100 && ((await dropped('malformed')) < 2 || (await dropped('forged')) < 2 || (await dropped('stale')) < 1); i++) {
    await new Promise((res) => setTimeout(res, 50))
  }
  assert.equal(await dropped('malformed'), 2)
  assert.equal(await dropped('forged'), 2)
  assert.equal(await dropped('stale'), 1)
  assert.equal(gossipA.get(bytesToHex(kX.publicKey)), undefined, 'no entry in the name of a key that did not publish')
  assert.equal(verifyCapability(bad), false)

  // Gossipsub itself refuses unsigned messages under StrictSign; our check agrees.
  assert.equal(gossipA.accept({ type: 'unsigned', topic: CAPABILITY_TOPIC, data: new Uint8Array() }), 'unsigned')
  assert.equal(await dropped('unsigned'), 1)
  // The honest worker is still served: its next records keep arriving.
  const before = gossipA.get(bytesToHex(kW.publicKey))!.record.timestamp
  await until('a newer record from W', () => (gossipA.get(bytesToHex(kW.publicKey))?.record.timestamp ?? 0) > before)
  const text = await registry.metrics()
  assert.match(text, /commons_capability_records_dropped_total\{reason="forged"\} 2/)
  assert.equal(peerIdOf(kW.publicKey).toString(), w.peerId.toString())
})
