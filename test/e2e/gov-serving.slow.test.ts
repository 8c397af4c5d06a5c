import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { runCli, spawnNode, tempDir, tinyModel, type SpawnedNode } from '../helpers/node-process.js'

/**
 * Governance decides what is served, end to end with REAL node processes (llama.cpp, the log with
 * its witness, governance, HTTP): issue 7, "admitted models become servable by workers and listed
 * by /v1/models with their provenance; retired ones stop being scheduled".
 *
 * Node A starts fresh with the tiny model: its local genesis admits it (provenance undeclared).
 * A `retire-model` proposal passes; after the voting period (60 s, the hard minimum) and the
 * epoch that executes it, /v1/models no longer lists it, completions get 403 `model_retired`
 * naming the proposal, and the node's capability record drops it. An `admit-model` proposal then
 * serves it again, now with the proposal and vote entries as its admission. Meanwhile node B
 * joins a network (`commons init`) whose genesis admits nothing: its model file is not served.
 */

type Json = Record<string, any>
let node: SpawnedNode
let tiny: { path: string; sha256: string }

before(async () => {
  tiny = await tinyModel()
  node = await spawnNode({ args: ['--model', tiny.path, '--parallel', '1', '--threads', '1', '--no-mdns'] })
})

after(async () => {
  await node?.stop()
})

async function get(path: string): Promise<Json> {
  const res = await fetch(`${node.url}${path}`)
  assert.equal(res.status, 200, `${path}: ${res.status}`)
  return (await res.json()) as Json
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Json }
}

/** Polls (every 250 ms, bounded) until `check` returns a value. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 150_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Proposes with the node's key, waits until the proposal is final, votes yes; returns its id and the vote entry's index. */
async function proposeAndVote(title: string, action: Json): Promise<{ id: number }> {
  const proposed = await post(node.url, '/api/gov/propose', { title, action })
  assert.equal(proposed.status, 202, JSON.stringify(proposed.json))
  const id = await until(`proposal '${title}' final`, async () => {
    const { proposals } = await get('/api/gov/proposals')
    return (proposals as Json[]).find((p) => p.title === title)?.id as number | undefined
  })
  assert.equal((await post(node.url, '/api/gov/vote', { proposal: id, choice: 'yes' })).status, 202)
  return { id }
}

const complete = (url: string, model: string) => post(url, '/v1/completions', { model, prompt: 'Commons', max_tokens: 3, seed: 1 })

test('a model is served while admitted, not after a retire-model proposal executes, and again once re-admitted', async () => {
  // First start: the local genesis admits the model the node started with.
  const first = (await get('/v1/models')).data as Json[]
  assert.deepEqual(first.map((m) => m.sha256), [tiny.sha256])
  const served = first[0]!
  const name = served.id as string
  assert.equal(served.admission.by, 'genesis')
  assert.equal(served.provenance.license, 'unknown')
  assert.equal(served.provenance.origin, 'undeclared')
  assert.equal(served.manifest.file.sha256, tiny.sha256)
  assert.equal((await complete(node.url, name)).status, 200)
  const manifest = served.manifest as Json

  const retire = await proposeAndVote('retire the tiny model', { type: 'retire-model', sha256: tiny.sha256, reason: 'test' })

  // While the vote runs: a node whose network's genesis admits nothing does not serve its file.
  const joined = tempDir('commons-gov-b-')
  let b: SpawnedNode | undefined
  try {
    const init = await runCli(['init', '--data-dir', joined.path, '--epoch-ms', '1000', '--json'])
    assert.equal(init.code, 0, init.stderr)
    b = await spawnNode({ dataDir: joined.path, args: ['--model', tiny.path, '--parallel', '1', '--threads', '1', '--no-p2p'] })
    assert.deepEqual(((await (await fetch(`${b.url}/v1/models`)).json()) as Json).data, [])
    const refused = await complete(b.url, name)
    assert.equal(refused.status, 403)
    assert.equal(refused.json.error.code, 'model_not_admitted')
    assert.equal(refused.json.error.type, 'invalid_request_error')
    assert.equal(refused.json.error.param, 'model')
    assert.match(refused.json.error.message, new RegExp(`model \`${name}\` .*is not admitted by governance`))
  } finally {
    await b?.stop()
    joined.cleanup()
  }

  // Until the retirement executes the model stays served; then it is gone everywhere.
  await until('the retirement to take effect', async () => (((await get('/v1/models')).data as Json[]).length === 0 ? true : undefined))
  const proposal = (await get(`/api/gov/proposals/${retire.id}`)).proposal as Json
  assert.equal(proposal.status, 'executed')
  assert.equal(proposal.outcome, 'applied')
  const refused = await complete(node.url, name)
  assert.equal(refused.status, 403)
  assert.equal(refused.json.error.code, 'model_retired')
  assert.match(refused.json.error.message, new RegExp(`retired by governance \\(proposal ${retire.id}\\)`))
  assert.equal((await fetch(`${node.url}/v1/models/${tiny.sha256}`)).status, 403)
  // Its capability record no longer offers it (a record with no model is not published at all).
  await until('the capability record to drop the model', async () => {
    const peers = await get('/api/peers')
    return (peers.workers as Json[]).some((w) => w.self === true && (w.models as Json[]).length > 0) ? undefined : true
  }, 10_000)

  // Admitted again by a proposal: served again, with that decision as its admission.
  const admit = await proposeAndVote('admit the tiny model again', { type: 'admit-model', manifest })
  const back = await until('the re-admission to take effect', async () => ((await get('/v1/models')).data as Json[])[0])
  assert.equal(back.sha256, tiny.sha256)
  assert.equal(back.admission.by, 'proposal')
  assert.equal(back.admission.proposal, admit.id)
  assert.equal(back.admission.entries[0], admit.id)
  assert.equal(back.admission.entries.length, 2, 'the propose entry and the one vote')
  const again = await complete(node.url, name)
  assert.equal(again.status, 200, JSON.stringify(again.json))
  assert.equal(typeof again.json.choices[0].text, 'string')
})
