/**
 * The governance service and its HTTP routes over a REAL SQLite log store: entries signed by the
 * node's key through the API, appended by a clearly fake witness (the edge: it finalizes whatever
 * is pending when the test says an epoch ended, cosigning with one witness key), replayed into
 * the reducer with epoch-derived times, snapshots, and the write authorization rules.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApi } from '../../src/api/index.js'
import { govRoutes } from '../../src/api/routes/gov.js'
import { applyEntry, initialState, stateRoot } from '../../src/governance/index.js'
import { bytesToHex, type KeyPair } from '../../src/identity/index.js'
import { encodeEntry, networkIdOf, parseStoredEntry, signEntry, type Genesis } from '../../src/ledger/index.js'
import { GovernanceService, SNAPSHOT_FILE } from '../../src/node/governance.js'
import { FakeInferenceService } from '../fixtures/fake-inference-service.js'
import { GENESIS_TIME, HOUR, idOf, modelManifest, serviceSetup as setup, serviceMembers as members, testKey } from './gov-harness.js'

const node = members[0]!

function signed(genesis: Genesis, key: KeyPair, seq: number, kind: 'vote', body: { proposal: number; choice: 'yes' | 'no' | 'abstain' }): Uint8Array {
  return encodeEntry(signEntry({ network: networkIdOf(genesis), kind, seq, time: 0, body }, key))
}

test('service + routes: propose through the API, votes in the log, decision executed at an epoch, state served', async () => {
  const { genesis, store, w, service, dir, cleanup } = setup()
  const { app } = buildApi({ service: new FakeInferenceService(), plugins: [govRoutes({ governance: () => service, adminToken: 'secret-token' })] })
  try {
    await service.start()
    const manifest = modelManifest(7)
    const res = await app.inject({ method: 'POST', url: '/api/gov/propose', payload: { title: 'admit model-7', action: { type: 'admit-model', manifest } } })
    assert.equal(res.statusCode, 202, res.body)
    const pending = res.json() as { hash: string; seq: number; author: string; status: string }
    assert.deepEqual([pending.status, pending.seq, pending.author], ['pending', 1, bytesToHex(node.publicKey)])
    // Not final yet: nothing in the state.
    assert.equal(service.sync(), 0)
    assert.equal((await app.inject({ url: '/api/gov/proposals' })).json().proposals.length, 0)

    w.endEpoch(0)
    assert.equal(service.sync(), 1)
    const proposal = service.state().proposals[0]!
    assert.equal(proposal.createdAt, GENESIS_TIME + HOUR, 'time = end of the epoch of the final checkpoint')
    assert.equal(proposal.status, 'pending')

    // The node votes through the API; the others sign their own votes.
    assert.equal((await app.inject({ method: 'POST', url: '/api/gov/vote', payload: { proposal: 0, choice: 'yes' } })).statusCode, 202)
    w.submit(signed(genesis, members[1]!, 1, 'vote', { proposal: 0, choice: 'yes' }))
    w.endEpoch(1) // votes final at 2h: voting opened at 1h + 1h discussion = 2h
    service.sync()
    assert.equal(Object.keys(service.state().proposals[0]!.votes).length, 2)
    const live = (await app.inject({ url: '/api/gov/proposals' })).json() as {
      proposals: Array<{ myVote: string | null; provisional: boolean; tally: { yes: number; quorumMet: boolean }; entries: number[]; quorumBps: number }>
    }
    assert.deepEqual(
      [live.proposals[0]!.myVote, live.proposals[0]!.provisional, live.proposals[0]!.tally.yes, live.proposals[0]!.entries, live.proposals[0]!.quorumBps],
      ['yes', true, 2, [0, 1, 2], 3000],
    )
    for (let e = 2; e < 40; e++) w.endEpoch(e) // idle epochs: the clock moves, the vote closes, the timelock passes
    service.sync()
    assert.equal(service.state().proposals[0]!.status, 'executed')

    const state = (await app.inject({ url: '/api/state' })).json() as { stateRoot: string; size: number }
    assert.deepEqual(state, { stateRoot: stateRoot(service.state()), size: 3 + 38, time: GENESIS_TIME + 40 * HOUR, network: store.network })
    const why = (await app.inject({ url: `/api/gov/models/${manifest.file.sha256}` })).json() as { admission: { proposal: number; votes: unknown[] } }
    assert.equal(why.admission.proposal, 0)
    assert.equal(why.admission.votes.length, 2)
    const models = (await app.inject({ url: '/api/gov/models' })).json() as { servable: Array<{ name: string }> }
    assert.deepEqual(models.servable.map((m) => m.name), ['model-7'])
    const show = await app.inject({ url: '/api/gov/proposals/0' })
    assert.equal(show.json().trail.outcome, 'applied')
    assert.equal((await app.inject({ url: '/api/gov/proposals/99' })).statusCode, 404)
    const members_ = (await app.inject({ url: '/api/gov/members' })).json() as { members: unknown[] }
    assert.equal(members_.members.length, 3)

    // Snapshot on stop; a new service resumes from it with the same root.
    await service.stop()
    assert.ok(existsSync(join(dir, SNAPSHOT_FILE)))
    const again = new GovernanceService({ store, genesis, keyPair: node, submit: w.submit, dataDir: dir, pollMs: 60_000 })
    await again.start()
    assert.equal(stateRoot(again.state()), stateRoot(service.state()))
    await again.stop()
    // A snapshot that does not match the log is ignored (replay from genesis gives the same root).
    const file = JSON.parse(readFileSync(join(dir, SNAPSHOT_FILE), 'utf8')) as { logRoot: string; snapshot: string }
    writeFileSync(join(dir, SNAPSHOT_FILE), JSON.stringify({ ...file, logRoot: '00'.repeat(32) }))
    const third = new GovernanceService({ store, genesis, keyPair: node, submit: w.submit, dataDir: dir, pollMs: 60_000 })
    await third.start()
    assert.equal(stateRoot(third.state()), stateRoot(service.state()))
    await third.stop()
  } finally {
    await service.stop()
    await app.close()
    cleanup()
  }
})

test('routes: writes need loopback without a foreign Origin, or the admin token; bodies are validated', async () => {
  const { service, cleanup } = setup()
  const { app } = buildApi({ service: new FakeInferenceService(), plugins: [govRoutes({ governance: () => service, adminToken: 'secret-token' })] })
  try {
    await service.start()
    const vote = { proposal: 0, choice: 'yes' }
    const remote = await app.inject({ method: 'POST', url: '/api/gov/vote', payload: vote, remoteAddress: '203.0.113.9' })
    assert.equal(remote.statusCode, 403)
    assert.equal(remote.json().error.code, 'forbidden')
    const csrf = await app.inject({ method: 'POST', url: '/api/gov/vote', payload: vote, headers: { origin: 'https://evil.example' } })
    assert.equal(csrf.statusCode, 403)
    const wrongToken = await app.inject({ method: 'POST', url: '/api/gov/vote', payload: vote, remoteAddress: '203.0.113.9', headers: { authorization: 'Bearer nope' } })
    assert.equal(wrongToken.statusCode, 403)
    const withToken = await app.inject({ method: 'POST', url: '/api/gov/vote', payload: vote, remoteAddress: '203.0.113.9', headers: { authorization: 'Bearer secret-token' } })
    assert.equal(withToken.statusCode, 202)
    const sameOrigin = await app.inject({ method: 'POST', url: '/api/gov/vouch', payload: { candidate: idOf(testKey('x', 1)) }, headers: { origin: 'http://localhost:8080', host: 'localhost:8080' } })
    assert.equal(sameOrigin.statusCode, 202)
    assert.equal(sameOrigin.json().seq, 2)
    const bad = await app.inject({ method: 'POST', url: '/api/gov/vote', payload: { proposal: 0, choice: 'maybe' } })
    assert.equal(bad.statusCode, 400)
    assert.equal(bad.json().error.param, 'choice')
    const extra = await app.inject({ method: 'POST', url: '/api/gov/delegate', payload: { to: null, weight: 9 } })
    assert.equal(extra.statusCode, 400)
    // Reads are public.
    assert.equal((await app.inject({ url: '/api/gov/state', remoteAddress: '203.0.113.9' })).statusCode, 200)
    assert.equal((await app.inject({ url: '/api/gov/proposals?status=maybe' })).statusCode, 400)
  } finally {
    await service.stop()
    await app.close()
    cleanup()
  }
})

test('routes: a node without a log answers 503', async () => {
  const { app } = buildApi({ service: new FakeInferenceService(), plugins: [govRoutes({ governance: () => undefined })] })
  try {
    const res = await app.inject({ url: '/api/state' })
    assert.equal(res.statusCode, 503)
    assert.equal(res.json().error.code, 'governance_unavailable')
  } finally {
    await app.close()
  }
})

test('service: a replay across pages and several checkpoints equals the reducer applied directly', async () => {
  const { genesis, store, w, dir, cleanup } = setup()
  const service = new GovernanceService({ store, genesis, keyPair: node, submit: w.submit, dataDir: dir, pollMs: 60_000, replayPage: 64 })
  try {
    const network = networkIdOf(genesis)
    const fed: Array<{ bytes: Uint8Array; epoch: number }> = []
    const seqs = [0, 0, 0]
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let i = 0; i < 200; i++) {
        const key = members[i % 3]!
        const body = i % 50 === 0 ? { title: `p${epoch}-${i}`, action: { type: 'amend-constitution', text: `t${i}` } } : { proposal: 0, choice: i % 2 === 0 ? 'yes' : 'no' }
        const kind = i % 50 === 0 ? 'propose' : 'vote'
        const bytes = encodeEntry(signEntry({ network, kind, seq: ++seqs[i % 3]!, time: 0, body } as never, key))
        w.submit(bytes)
        fed.push({ bytes, epoch })
      }
      w.endEpoch(epoch)
    }
    await service.start()
    assert.equal(service.state().lastIndex + 1, store.size())
    // The same entries straight into a fresh reducer, with the times the checkpoints give them.
    const direct = initialState(genesis)
    store.entries(0, store.size()).forEach((e, index) => {
      const epoch = fed[index]?.epoch ?? 2
      applyEntry(direct, { entry: parseStoredEntry(e.bytes), index, time: GENESIS_TIME + (epoch + 1) * HOUR })
    })
    assert.equal(service.stateRoot(), stateRoot(direct))
    assert.ok(Object.keys(service.state().proposals).length > 0)
  } finally {
    await service.stop()
    cleanup()
  }
})
