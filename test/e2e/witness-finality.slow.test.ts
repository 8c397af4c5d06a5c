/**
 * Witness finality end to end: 4 real witness processes (k = 3) on 127.0.0.1, real libp2p
 * gossipsub, real SQLite, 2 s epochs (the test machine is shared and busy) (test/helpers/witness-cluster.ts). Issue 5 "Tests".
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keyPairFromSecret, sha256 } from '../../src/identity/index.js'
import { proposerOf } from '../../src/ledger/consensus/tendermint.js'
import { LogStore, parseSignedCheckpoint, verifyCosignatures, verifyLog, type Conviction } from '../../src/ledger/index.js'
import { WitnessCluster, type WitnessProcess } from '../helpers/witness-cluster.js'

const authors = [0, 1, 2].map((i) => keyPairFromSecret(sha256(`witness-e2e-author-${i}`)))
const FINAL_WITHIN_MS = 120_000

async function waitFinal(procs: readonly WitnessProcess[], hashes: readonly string[]): Promise<void> {
  await Promise.all(
    procs.map((p) =>
      Promise.all(hashes.map((h) => p.waitFor((l) => l.event === 'decided' && l.final === true && (l.entries as string[]).includes(h), FINAL_WITHIN_MS, `final ${h.slice(0, 8)}`))),
    ),
  )
}

function forkProofs(procs: readonly WitnessProcess[]): string[] {
  return procs.flatMap((p) => p.lines.filter((l) => l.event === 'fork-proof').map((l) => l.witness as string))
}

test('entries from several authors become final; one witness killed → still final; two killed → no finality and no fork, resumes when one returns', async () => {
  const cluster = new WitnessCluster()
  try {
    await cluster.startAll()
    const first = authors.map((a, i) => cluster.entry(a, `hello ${i}`))
    first.forEach((e, i) => cluster.procs[i]!.submit(e.bytes))
    await waitFinal(cluster.live(), first.map((e) => e.hash))
    // Every witness holds the same tree, with a final checkpoint (k cosignatures).
    const roots = cluster.live().map((p) => p.lines.filter((l) => l.event === 'decided').at(-1)!)
    assert.ok(roots.every((d) => typeof d.cosigners === 'number' && d.cosigners >= 3))

    await cluster.procs[3]!.kill('SIGKILL')
    const second = cluster.entry(authors[0]!, 'after one crash')
    cluster.procs[1]!.submit(second.bytes)
    await waitFinal(cluster.live(), [second.hash])

    await cluster.procs[2]!.kill('SIGKILL')
    const stalled = cluster.entry(authors[1]!, 'two down')
    cluster.procs[0]!.submit(stalled.bytes)
    await new Promise((r) => setTimeout(r, 8_000))
    for (const p of cluster.live()) assert.equal(p.finalEntries().has(stalled.hash), false, 'k = 3 unreachable with 2 witnesses')

    await cluster.start(2)
    await waitFinal(cluster.live(), [stalled.hash])
    assert.deepEqual(forkProofs(cluster.live()), [], 'no correct witness was accused, the restarted one included')
  } finally {
    await cluster.stop()
  }
})

test('an equivocating witness is caught with a fork proof, convicted through the log at one height for all, and the others still finalize', async () => {
  const cluster = new WitnessCluster({ extraArgs: { 3: ['--test-only-byzantine', 'equivocate'] } })
  try {
    await cluster.startAll()
    const entries = authors.map((a, i) => cluster.entry(a, `under attack ${i}`))
    entries.forEach((e, i) => cluster.procs[i]!.submit(e.bytes))
    const honest = cluster.procs.slice(0, 3) as WitnessProcess[]
    await waitFinal(honest, entries.map((e) => e.hash))
    await Promise.all(honest.map((p) => p.waitFor((l) => l.event === 'fork-proof' && l.witness === cluster.witnesses[3], FINAL_WITHIN_MS, 'fork proof')))
    assert.ok(forkProofs(honest).every((w) => w === cluster.witnesses[3]), 'only the equivocator is accused')
    // The proof goes into the log as a fork-proof entry; once it is final every correct witness
    // holds the same conviction, and from the next epoch the forker's cosignature counts nowhere.
    const forker = cluster.witnesses[3]!
    const convicted = (i: number): Conviction | undefined => {
      const store = LogStore.open(cluster.logPath(i), { genesis: cluster.genesis, readonly: true, verifyOnOpen: false })
      try {
        return store.convictions().get(forker)
      } finally {
        store.close()
      }
    }
    const deadline = Date.now() + FINAL_WITHIN_MS
    while (!honest.every((p) => convicted(p.index) !== undefined)) {
      assert.ok(Date.now() < deadline, 'the fork-proof entry became final on every correct witness')
      await new Promise((r) => setTimeout(r, 500))
    }
    const lines = honest.map((p) => convicted(p.index)!)
    assert.ok(lines.every((c) => c.epoch === lines[0]!.epoch && c.size === lines[0]!.size), `one conviction line for all: ${JSON.stringify(lines)}`)
    const after = cluster.entry(authors[0]!, 'after the conviction')
    honest[0]!.submit(after.bytes)
    await waitFinal(honest, [after.hash])
    for (const p of honest) {
      const path = cluster.logPath(p.index)
      const store = LogStore.open(path, { genesis: cluster.genesis, readonly: true, verifyOnOpen: false })
      const latest = store.latestFinalCheckpoint()!
      store.close()
      assert.ok(latest.epoch! > lines[0]!.epoch!, 'a checkpoint after the conviction')
      assert.equal(verifyCosignatures(parseSignedCheckpoint(latest.note), [forker]).valid.length, 0, 'the forker does not cosign it')
      const report = await verifyLog(path, cluster.genesis)
      assert.equal(report.ok, true, JSON.stringify(report.failure))
    }
  } finally {
    await cluster.stop()
  }
})

test('a censoring proposer cannot keep out an entry that the other witnesses hold', async () => {
  const censor = 1
  const cluster = new WitnessCluster()
  const target = cluster.entry(authors[2]!, 'please do not censor me')
  cluster.extraArgs[censor] = ['--test-only-byzantine', 'censor', '--censor', target.hash]
  try {
    await cluster.startAll()
    const honest = cluster.procs.filter((_, i) => i !== censor) as WitnessProcess[]
    // Submit right after height h starts, where the censor proposes round 0 of height h + 1:
    // the entry then lands in the correct witnesses' epoch sets of height h + 1.
    const started = await honest[0]!.waitFor(
      (l) => l.event === 'height-started' && proposerOf(cluster.witnesses, (l.height as number) + 1, 0) === cluster.witnesses[censor],
      FINAL_WITHIN_MS,
      'a height before the censor proposes',
    )
    // Once every correct witness has signed its set of height h, the entry can only be in later sets.
    await Promise.all(honest.map((p) => p.waitFor((l) => l.event === 'height-started' && l.height === started.height, FINAL_WITHIN_MS, `height ${started.height as number}`)))
    for (const p of honest) p.submit(target.bytes)
    await waitFinal(honest, [target.hash])
    const decided = honest[0]!.lines.find((l) => l.event === 'decided' && (l.entries as string[]).includes(target.hash))!
    const censoredAt = cluster.procs[censor]!.lines.filter((l) => l.event === 'censored').map((l) => l.height as number)
    assert.ok(censoredAt.length > 0, 'the censor did propose a batch without the entry')
    if (decided.height === (started.height as number) + 1) {
      assert.ok(censoredAt.includes(decided.height as number), 'the censor tried at that height')
      assert.ok((decided.round as number) >= 1, 'its round-0 proposal was refused')
    }
    assert.ok((decided.height as number) <= (started.height as number) + 2, `final at height ${decided.height as number}`)
  } finally {
    await cluster.stop()
  }
})
