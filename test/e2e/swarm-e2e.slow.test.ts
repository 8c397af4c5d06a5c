import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import OpenAI, { APIError } from 'openai'
import { startLocalSwarm, waitForWorkers, type LocalSwarm, type SwarmMember } from '../../src/cli/commands/swarm.js'
import type { PeersReport } from '../../src/scheduler/swarm-node.js'

/**
 * Three REAL node processes on loopback (tiny model, llama.cpp, libp2p): node A is a gateway
 * with `--no-worker`, B and C are workers. The official `openai` client talks to A only.
 */

const BIN = fileURLToPath(new URL('../../bin/commons.js', import.meta.url))
let swarm: LocalSwarm
let gateway: SwarmMember
let workers: SwarmMember[]
let client: OpenAI
let model: string

before(async () => {
  swarm = await startLocalSwarm({
    nodes: 3,
    gatewayOnly: true,
    nodeArgs: ['--stall-timeout', '3000', '--parallel', '2', '--threads', '1', '--log-level', 'info'],
  })
  gateway = swarm.members[0]!
  workers = swarm.members.slice(1)
  await waitForWorkers(gateway.url, 2)
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 })
  model = (await client.models.list()).data[0]!.id
})

after(async () => {
  await swarm?.stop()
})

type WithCommons = OpenAI.Completions.Completion & { commons?: { served_by: string; receipt_id?: string; seed: number } }

async function metric(url: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(name) && line.includes(label)) sum += Number(line.split(' ').at(-1))
  return sum
}

describe('swarm of three processes', () => {
  test('requests through the gateway run on both workers with verified receipts; same text as the worker itself', async () => {
    const results = (await Promise.all([1, 2, 3, 4].map((seed) =>
      client.completions.create({ model, prompt: 'In the beginning', max_tokens: 12, seed, temperature: 0.8 }),
    ))) as WithCommons[]
    const servedBy = new Set(results.map((r) => r.commons?.served_by))
    assert.deepEqual([...servedBy].sort(), workers.map((w) => w.nodeId).sort(), 'both workers served')
    for (const r of results) assert.match(r.commons?.receipt_id ?? '', /^[0-9a-f]{64}$/)
    assert.ok((await metric(gateway.url, 'commons_job_receipts_total', 'outcome="valid"')) >= 4)
    assert.equal(await metric(gateway.url, 'commons_job_receipts_total', 'outcome="invalid"'), 0)
    // The network adds nothing: the worker's own API gives the same text for the same seed.
    const direct = new OpenAI({ baseURL: `${workers[0]!.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 })
    const own = await direct.completions.create({ model, prompt: 'In the beginning', max_tokens: 12, seed: 1, temperature: 0.8 })
    assert.equal(own.choices[0]!.text, results[0]!.choices[0]!.text)
  })

  test("/api/peers and 'commons peers' list both workers with their capabilities", async () => {
    const run = (args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'peers', '--url', gateway.url, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => { out += d.toString() })
      child.on('exit', (code) => resolve({ code, out }))
    })
    const report = (await (await fetch(`${gateway.url}/api/peers`)).json()) as PeersReport
    assert.equal(report.nodeId, gateway.nodeId)
    assert.deepEqual(report.workers.map((w) => w.nodeId).sort(), workers.map((w) => w.nodeId).sort())
    for (const w of report.workers) {
      assert.equal(w.models[0]!.name, model)
      assert.equal(w.connected, true)
      assert.ok(w.parallel >= 1)
    }
    const table = await run([])
    assert.equal(table.code, 0)
    assert.match(table.out, /WORKER\s+CONN\s+MODELS/)
    for (const w of workers) assert.ok(table.out.includes(w.nodeId.slice(0, 12)))
  })

  test('kill -9 of the serving worker mid-stream: the client still gets the complete, identical text', async () => {
    const request = { model, prompt: 'And God said', max_tokens: 120, seed: 99, temperature: 0.9 }
    const reference = (await client.completions.create(request)).choices[0]!.text
    const failoversBefore = await metric(gateway.url, 'commons_job_failovers_total')
    const stream = await client.completions.create({ ...request, stream: true })
    let text = ''
    let killed: SwarmMember | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? ''
      if (killed === undefined && text.length > 0) {
        // Freeze both workers at once so the job is surely mid-stream, ask the gateway which one
        // runs it, kill that one for good and let the other go on.
        for (const w of workers) w.process.kill('SIGSTOP')
        const peers = (await (await fetch(`${gateway.url}/api/peers`)).json()) as PeersReport
        const serving = peers.workers.find((w) => w.observed.runningJobs > 0)
        assert.ok(serving, 'the gateway knows which worker runs the job')
        killed = workers.find((w) => w.nodeId === serving.nodeId)!
        killed.process.kill('SIGKILL')
        for (const w of workers) if (w !== killed) w.process.kill('SIGCONT')
      }
    }
    assert.ok(killed !== undefined)
    assert.equal(text, reference, 'no token lost or repeated across the failover')
    assert.ok((await metric(gateway.url, 'commons_job_failovers_total')) > failoversBefore, 'the gateway failed over')
  })

  test('all workers gone: 503 with a clear message within 2 s, and the gateway still answers', async () => {
    for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL')
    await new Promise((r) => setTimeout(r, 200))
    const t0 = performance.now()
    await assert.rejects(client.completions.create({ model, prompt: 'x', max_tokens: 4 }), (err: unknown) => {
      assert.ok(err instanceof APIError, String(err))
      assert.equal(err.status, 503)
      assert.match(err.message, /worker/)
      return true
    })
    const ms = performance.now() - t0
    assert.ok(ms < 2_000, `503 after ${Math.round(ms)} ms`)
    const health = await fetch(`${gateway.url}/healthz`)
    assert.equal(health.status, 200)
  })
})
