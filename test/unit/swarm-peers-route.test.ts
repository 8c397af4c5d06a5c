import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApi } from '../../src/api/index.js'
import { peersRoutes } from '../../src/api/routes/peers.js'
import type { PeersReport } from '../../src/scheduler/swarm-node.js'
import { FakeInferenceService } from './swarm-fakes.js'

test('/api/peers: the swarm report as JSON, or 503 swarm_disabled on a standalone node', async () => {
  const report: PeersReport = {
    nodeId: 'aa'.repeat(32), peerId: '12D3KooWtest', addrs: ['/ip4/127.0.0.1/tcp/1'], connections: 1,
    workers: [{
      nodeId: 'bb'.repeat(32), peerId: '12D3KooWother', self: false, connected: true, addrs: [], models: [{ name: 'm', sha256: 'cc'.repeat(32), contextSize: 256 }],
      freeSlots: 1, parallel: 2, queueDepth: 0, tokensPerSecond: 10, version: 'commons/0.1.0', ageMs: 5, observed: { runningJobs: 1, latencyMs: 0.5, recentFailures: 0 },
    }],
  }
  let current: PeersReport | undefined = report
  const { app } = buildApi({ service: new FakeInferenceService('x'), plugins: [peersRoutes(() => current)] })
  try {
    const ok = await app.inject({ method: 'GET', url: '/api/peers' })
    assert.equal(ok.statusCode, 200)
    assert.deepEqual(ok.json(), report)
    current = undefined
    const off = await app.inject({ method: 'GET', url: '/api/peers' })
    assert.equal(off.statusCode, 503)
    assert.equal((off.json() as { error: { code: string } }).error.code, 'swarm_disabled')
  } finally {
    await app.close()
  }
})
