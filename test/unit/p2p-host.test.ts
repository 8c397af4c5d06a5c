import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { bytesToHex, generateKeyPair, keyPairFromSecret } from '../../src/identity/index.js'
import { createHost, listenAddrs, nodeIdOfPeer, peerIdOf, InvalidMultiaddrError } from '../../src/p2p/index.js'

test('peer id is derived from the node key, and the node id is recovered from it', () => {
  // RFC 8032 §7.1 TEST 1 key: the peer id of a fixed key is fixed.
  const kp = keyPairFromSecret(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'))
  assert.equal(bytesToHex(kp.publicKey), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
  const pid = peerIdOf(kp.publicKey)
  assert.equal(pid.type, 'Ed25519')
  assert.equal(nodeIdOfPeer(pid), bytesToHex(kp.publicKey))
  assert.equal(nodeIdOfPeer(peerIdFromString(pid.toString())), bytesToHex(kp.publicKey))
})

test('a bad bootstrap multiaddr fails at start with a typed error', async () => {
  await assert.rejects(createHost({ keyPair: generateKeyPair(), listen: [], bootstrap: ['not-an-addr'], mdns: false }), InvalidMultiaddrError)
})

test('two hosts: bootstrap connects them, the host peer id is the key, gossipsub and ping work', async () => {
  const ka = generateKeyPair()
  const kb = generateKeyPair()
  const a = await createHost({ keyPair: ka, listen: listenAddrs('127.0.0.1', 0), mdns: false })
  const addrA = a.getMultiaddrs().find((m) => !m.toString().includes('/ws'))
  assert.ok(addrA)
  assert.ok(a.getMultiaddrs().some((m) => m.toString().includes('/ws')), 'listens on WebSockets too')
  const b = await createHost({ keyPair: kb, listen: listenAddrs('127.0.0.1', 0), bootstrap: [addrA.toString()], mdns: false })
  try {
    assert.equal(a.peerId.toString(), peerIdOf(ka.publicKey).toString())
    assert.equal(nodeIdOfPeer(b.peerId), bytesToHex(kb.publicKey))
    const received = new Promise<string>((resolve) => {
      a.services.pubsub.addEventListener('message', (e) => resolve(new TextDecoder().decode(e.detail.data)))
    })
    a.services.pubsub.subscribe('t')
    b.services.pubsub.subscribe('t')
    // Bounded wait for the bootstrap dial and the subscription exchange.
    for (let i = 0; i < 100 && b.services.pubsub.getSubscribers('t').length === 0; i++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(b.getConnections(a.peerId).length > 0, true)
    await b.services.pubsub.publish('t', new TextEncoder().encode('hello'))
    assert.equal(await received, 'hello')
    const rtt = await b.services.ping.ping(a.peerId)
    assert.ok(rtt >= 0)
  } finally {
    await b.stop()
    await a.stop()
  }
})
