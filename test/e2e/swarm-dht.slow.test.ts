import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { spawnNode, tinyModel, type SpawnedNode } from '../helpers/node-process.js'

/**
 * Three REAL node processes on loopback: B, a bootstrap node running no model; W, a worker
 * (tiny model, llama.cpp) that knows only B; G, a gateway (`--no-worker`) that knows only B and
 * does not listen to capability gossip (`--no-capability-gossip`). G can learn about W only
 * through the kad-dht: W's provider records (announced to B), then W's signed capability record
 * fetched from W itself. A request through G must then run on W.
 */

let boot: SpawnedNode
let worker: SpawnedNode
let gateway: SpawnedNode

const nodes: SpawnedNode[] = []

function p2pAddr(node: SpawnedNode): string {
  const addr = /^P2P: (\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+)$/m.exec(node.stdout())?.[1]
  if (addr === undefined) throw new Error(`no TCP P2P address printed:\n${node.stdout()}`)
  return addr
}

async function nodeId(node: SpawnedNode): Promise<string> {
  return (await json<{ node_id: string }>(`${node.url}/healthz`)).node_id
}

/** Polls `cond` every 200 ms for at most `ms` (a busy shared machine can be slow). */
async function until(what: string, cond: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

async function metric(url: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text()
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(name) && line.includes(label)) sum += Number(line.split(' ').at(-1))
  return sum
}

before(async () => {
  const tiny = await tinyModel()
  const common = ['--no-mdns', '--log-level', 'warn']
  boot = await spawnNode({ args: ['--no-worker', ...common] })
  nodes.push(boot)
  const bootstrap = ['--bootstrap', p2pAddr(boot)]
  worker = await spawnNode({ args: ['--model', tiny.path, '--parallel', '1', '--threads', '1', ...bootstrap, ...common] })
  nodes.push(worker)
  // The gateway comes once the worker's provider records are on B (bounded wait).
  await until('the worker announced its model on the DHT', async () => (await metric(worker.url, 'commons_dht_announcements_total', 'outcome="reached"')) >= 3)
  // `--model` on a gateway loads nothing; its first-start genesis admits that model (the tiny
  // model is not the demo model every genesis admits), so the gateway may schedule it.
  gateway = await spawnNode({ args: ['--no-worker', '--no-capability-gossip', '--model', tiny.path, ...bootstrap, ...common] })
  nodes.push(gateway)
})

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
})

test('a gateway that hears no gossip learns the worker through the DHT and its requests run there', async () => {
  const workerId = await nodeId(worker)
  // G looks the rendezvous key of all workers up while its peer table is empty.
  let models: string[] = []
  await until('the gateway lists the worker\'s model', async () => {
    models = (await json<{ data: { id: string }[] }>(`${gateway.url}/v1/models`)).data.map((m) => m.id)
    return models.length > 0
  })
  assert.equal(models.length, 1)

  const body = { model: models[0], prompt: 'Once upon a time', max_tokens: 12, seed: 5, temperature: 0.8 }
  const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  const viaGateway = await json<{ choices: { text: string }[]; commons?: { served_by: string; receipt_id?: string } }>(`${gateway.url}/v1/completions`, post)
  assert.equal(viaGateway.commons?.served_by, workerId)
  assert.match(viaGateway.commons?.receipt_id ?? '', /^[0-9a-f]{64}$/)
  const direct = await json<{ choices: { text: string }[] }>(`${worker.url}/v1/completions`, post)
  assert.equal(viaGateway.choices[0]?.text, direct.choices[0]?.text, 'same seed, same text as the worker itself')

  // How G learned it: a DHT lookup found W, and W's record came over the direct protocol (G's
  // gossip is off, so nothing was accepted or dropped from the topic).
  assert.ok((await metric(gateway.url, 'commons_dht_lookups_total', 'outcome="found"')) >= 1)
  assert.ok((await metric(gateway.url, 'commons_capability_records_accepted_total')) >= 1)
  assert.equal(await metric(gateway.url, 'commons_job_receipts_total', 'outcome="valid"'), 1)
  assert.ok((await metric(worker.url, 'commons_dht_announcements_total', 'outcome="reached"')) >= 3)
  // G was never given W's address: it is connected to W only because the DHT named it.
  const peers = await json<{ workers: { nodeId: string; connected: boolean }[] }>(`${gateway.url}/api/peers`)
  assert.deepEqual(peers.workers.map((w) => [w.nodeId, w.connected]), [[workerId, true]])
})
