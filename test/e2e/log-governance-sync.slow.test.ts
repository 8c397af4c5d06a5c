/**
 * Governance determinism after log sync, with two REAL node processes on loopback (no model:
 * `--no-worker`; real libp2p, SQLite, witness, governance). Node A is the only witness of its
 * network (1 s epochs) and finalizes a proposal and a vote in different epochs, with empty epochs
 * between and after them. Node B joins later with A's genesis, catches up over `/commons/log/1`
 * and then follows A's witness live. Governance gives each entry the time of the epoch whose
 * checkpoint included it, so B must hold exactly A's batch checkpoints: at the same log size and
 * governance time both report the same `/api/state` stateRoot (issue 7), also after B restarts,
 * and `commons log verify` passes on B's copy. Issue 5 "Storage, sync, audit".
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { runCli, spawnNode, tempDir, type SpawnedNode } from '../helpers/node-process.js'

interface ApiState {
  readonly stateRoot: string
  readonly size: number
  readonly time: number
}

interface ApiCheckpoint {
  readonly size: number
  readonly epoch?: number
}

const WAIT_MS = 60_000

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function getJson<T>(node: SpawnedNode, path: string): Promise<T> {
  const res = await fetch(`${node.url}${path}`)
  assert.equal(res.status, 200, `${path}: ${res.status}`)
  return (await res.json()) as T
}

async function post(node: SpawnedNode, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${node.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  assert.equal(res.status, 202, `${path}: ${await res.text()}`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits until governance on `node` has applied `size` entries. */
async function waitSize(node: SpawnedNode, size: number): Promise<ApiState> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const s = await getJson<ApiState>(node, '/api/state')
    if (s.size >= size) return s
    if (Date.now() > deadline) throw new Error(`governance on ${node.url} stuck at size ${s.size} (< ${size}); stderr: ${node.stderr().slice(-1500)}`)
    await sleep(200)
  }
}

/**
 * Reads both nodes' `/api/state` together until they stand at the same log size AND the same
 * governance time (the latest final checkpoint: both follow A's 1 s epochs, each polling every
 * 500 ms), and returns that pair. A node that never catches up to the other fails here.
 */
async function samePoint(a: SpawnedNode, b: SpawnedNode): Promise<[ApiState, ApiState]> {
  const deadline = Date.now() + WAIT_MS
  let last: [ApiState, ApiState] | undefined
  for (;;) {
    const pair = await Promise.all([getJson<ApiState>(a, '/api/state'), getJson<ApiState>(b, '/api/state')])
    if (pair[0].size === pair[1].size && pair[0].time === pair[1].time) return pair
    last = pair
    if (Date.now() > deadline) throw new Error(`A and B never at the same point; last: ${JSON.stringify(last)}; B stderr: ${b.stderr().slice(-1500)}`)
    await sleep(100)
  }
}

/** (size, epoch) of each batch checkpoint a node holds (the first final checkpoint of each size). */
async function batches(node: SpawnedNode): Promise<Array<[number, number | undefined]>> {
  const { checkpoints } = await getJson<{ checkpoints: ApiCheckpoint[] }>(node, '/api/log/checkpoints?limit=1000')
  return checkpoints.filter((c) => c.size > 0).map((c): [number, number | undefined] => [c.size, c.epoch]).sort((x, y) => x[0] - y[0])
}

test('a node that syncs later derives the same governance state root as the witness that saw it live, also after a restart', async () => {
  const dirB = tempDir('commons-govsync-b-')
  const p2pPort = await freePort()
  const common = ['--no-worker', '--no-mdns', '--log-level', 'info']
  let a: SpawnedNode | undefined
  let b: SpawnedNode | undefined
  try {
    a = await spawnNode({ args: [...common, '--p2p-port', String(p2pPort)] })
    // Proposal in one epoch, a vote a few (empty) epochs later, then more empty epochs.
    await post(a, '/api/gov/propose', { title: 'shorter timelock', action: { type: 'set-parameter', name: 'timelockMs', value: 1000 } })
    await waitSize(a, 1)
    await sleep(2500)
    await post(a, '/api/gov/vote', { proposal: 0, choice: 'yes' })
    await waitSize(a, 2)
    await sleep(3000)
    const history = await batches(a)
    assert.equal(history.length, 2, `two batches: ${JSON.stringify(history)}`)
    assert.ok(history[1]![1]! > history[0]![1]! + 1, 'the vote was final epochs after the proposal')

    // B joins A's network (same genesis) and catches up from A before its witness follows live.
    mkdirSync(dirB.path, { recursive: true })
    copyFileSync(join(a.dataDir, 'genesis.json'), join(dirB.path, 'genesis.json'))
    const joinArgs = [...common, '--bootstrap', `/ip4/127.0.0.1/tcp/${p2pPort}`]
    b = await spawnNode({ dataDir: dirB.path, args: joinArgs })
    const [sa, sb] = await samePoint(a, b)
    assert.ok(sb.size >= 2)
    assert.equal(sb.stateRoot, sa.stateRoot, `same size ${sa.size} and time ${sa.time}, same root`)
    assert.deepEqual(await batches(b), await batches(a), 'B holds the checkpoints that included each entry')
    const proposalA = await getJson<{ proposal: unknown }>(a, '/api/gov/proposals/0')
    assert.deepEqual(await getJson<{ proposal: unknown }>(b, '/api/gov/proposals/0'), proposalA)

    // More activity while B follows live: a third entry, then B restarts and catches up again.
    await post(a, '/api/gov/vote', { proposal: 0, choice: 'abstain' })
    await waitSize(a, 3)
    await samePoint(a, b)
    await b.stop()
    b = undefined
    const verify = await runCli(['log', 'verify', '--data-dir', dirB.path, '--json'])
    assert.equal(verify.code, 0, `log verify on the synced copy: ${verify.stdout} ${verify.stderr}`)
    await sleep(2000) // A decides more (empty) epochs while B is down
    b = await spawnNode({ dataDir: dirB.path, args: joinArgs })
    const [ra, rb] = await samePoint(a, b)
    assert.ok(rb.size >= 3)
    assert.equal(rb.stateRoot, ra.stateRoot, `after B's restart: same size ${ra.size} and time ${ra.time}, same root`)
    assert.deepEqual(await batches(b), await batches(a))
  } finally {
    await b?.stop()
    await a?.stop()
    dirB.cleanup()
  }
})
