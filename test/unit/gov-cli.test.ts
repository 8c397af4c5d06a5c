/**
 * `commons gov …` against a real node API (fastify on 127.0.0.1, governance service over a real
 * SQLite log; a FakeWitness finalizes epochs). Most commands run in-process through the CLI's own
 * `main()` with stdout captured; one real `bin/commons.js` process checks the exit codes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { buildApi } from '../../src/api/index.js'
import { govRoutes } from '../../src/api/routes/gov.js'
import { main } from '../../src/cli/main.js'
import { stateRoot } from '../../src/governance/index.js'
import { FakeInferenceService } from '../fixtures/fake-inference-service.js'
import { idOf, modelManifest, serviceSetup, testKey } from './gov-harness.js'

const run = promisify(execFile)

/** Runs the CLI in-process; returns its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const write = process.stdout.write.bind(process.stdout)
  const writeErr = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write
  try {
    const code = await main(['node', 'commons', ...args])
    return { code, out, err }
  } finally {
    process.stdout.write = write
    process.stderr.write = writeErr
  }
}

test('commons gov: propose, vote, show, proposals, members, state (--json and text); errors map to exit codes', async () => {
  const { dir, w, service, cleanup } = serviceSetup()
  const { app } = buildApi({ service: new FakeInferenceService(), plugins: [govRoutes({ governance: () => service })] })
  try {
    await service.start()
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const api = ['--api', url]

    const manifestFile = join(dir, 'model-3.manifest.json')
    writeFileSync(manifestFile, JSON.stringify(modelManifest(3)))
    const proposed = await cli(['gov', 'propose', 'admit-model', '--manifest', manifestFile, ...api, '--json'])
    assert.equal(proposed.code, 0, proposed.err)
    assert.equal(JSON.parse(proposed.out).kind, 'propose')
    const param = await cli(['gov', 'propose', 'set-parameter', 'timelockMs', '0', '--title', 'no timelock', ...api])
    assert.equal(param.code, 0, param.err)
    assert.match(param.out, /propose entry [0-9a-f]{64} \(seq 2\) submitted/)
    w.endEpoch(0)
    service.sync()

    assert.equal((await cli(['gov', 'vote', '0', 'yes', ...api])).code, 0)
    assert.equal((await cli(['gov', 'vouch', idOf(testKey('newcomer', 0)), ...api])).code, 0)
    w.endEpoch(1)
    service.sync()

    const show = await cli(['gov', 'show', '0', ...api, '--json'])
    assert.equal(show.code, 0, show.err)
    const shown = JSON.parse(show.out) as { proposal: { title: string; votes: Record<string, unknown> }; trail: { votes: Array<{ index: number }> } }
    assert.equal(shown.proposal.title, 'Admit model model-3')
    assert.equal(shown.trail.votes.length, 1)
    const showText = await cli(['gov', 'show', '0', ...api])
    assert.match(showText.out, /#0 Admit model model-3/)
    assert.match(showText.out, /yes\s+entry 2/)

    const list = JSON.parse((await cli(['gov', 'proposals', ...api, '--json'])).out) as { proposals: Array<{ id: number; title: string }> }
    assert.deepEqual(list.proposals.map((p) => [p.id, p.title]), [[1, 'no timelock'], [0, 'Admit model model-3']])
    const members = JSON.parse((await cli(['gov', 'members', ...api, '--json'])).out) as { members: unknown[]; candidates: Record<string, unknown> }
    assert.equal(members.members.length, 3)
    assert.deepEqual(Object.keys(members.candidates), [idOf(testKey('newcomer', 0))])
    const state = JSON.parse((await cli(['gov', 'state', '--json', ...api])).out) as { stateRoot: string; size: number; isMember: boolean }
    assert.equal(state.stateRoot, stateRoot(service.state()))
    assert.equal(state.isMember, true)
    assert.match((await cli(['gov', 'state', ...api])).out, /state root\s+[0-9a-f]{64}/)

    // Audit: after the vote and the timelock, the model is served, and `why` names the entries.
    for (let e = 2; e < 40; e++) w.endEpoch(e)
    service.sync()
    const sha = modelManifest(3).file.sha256
    const models = JSON.parse((await cli(['gov', 'models', ...api, '--json'])).out) as { servable: Array<{ sha256: string; admittedBy: number }> }
    assert.deepEqual(models.servable.map((m) => [m.sha256, m.admittedBy]), [[sha, 0]])
    const why = await cli(['gov', 'why', sha, ...api])
    assert.equal(why.code, 0, why.err)
    assert.match(why.out, /model-3: servable/)
    assert.match(why.out, /admitted: proposal #0 .*log index 0.*applied/)
    assert.match(why.out, /yes\s+entry 2/)

    // Bad usage → 2, failures → 1.
    assert.equal((await cli(['gov', 'vote', '0', 'maybe', ...api])).code, 2)
    assert.equal((await cli(['gov', 'propose', 'set-parameter', 'maxDelegateShareBps', '900', ...api])).code, 2)
    assert.equal((await cli(['gov', 'delegate', ...api])).code, 2)
    const missing = await cli(['gov', 'show', '42', ...api])
    assert.equal(missing.code, 1)
    assert.match(missing.err, /proposal 42 not found/)

    // The real binary: exit codes and messages over a real process.
    const bin = join(process.cwd(), 'bin', 'commons.js')
    const ok = await run(process.execPath, [bin, 'gov', 'proposals', '--status', 'executed', '--api', url, '--json'])
    assert.deepEqual((JSON.parse(ok.stdout) as { proposals: Array<{ id: number }> }).proposals.map((p) => p.id), [0])
    await assert.rejects(run(process.execPath, [bin, 'gov', 'state', '--api', 'http://127.0.0.1:1']), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1)
      assert.match(e.stderr, /no Commons node answers/)
      return true
    })
  } finally {
    await app.close()
    await service.stop()
    cleanup()
  }
})
