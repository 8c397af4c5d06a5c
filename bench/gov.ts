/**
 * `npm run bench -- gov`: replays 100,000 governance entries from genesis through the reducer
 * (target < 2 s, DESIGN: every node replays the log to derive the state) and reports entries/s.
 *
 * The history is generated first (not timed): real Ed25519-signed entries from 500 genesis members
 * over ~70 days of final checkpoints — votes (most of it), proposals of every type, vouches that
 * admit new members, delegations, leaves — the mix a busy network would log. The timed part is
 * `initialState` + `applyEntry` × N; `stateRoot` (canonical JSON + SHA-256 of the whole state) and a
 * second independent replay (must give the same root) are reported separately.
 * Env: BENCH_GOV_ENTRIES (default 100000).
 */
import { bytesToHex, keyPairFromSecret, sha256, sha256Hex, sign, type KeyPair } from '../src/identity/index.js'
import { createGenesis, entrySigningBytes, networkIdOf } from '../src/ledger/index.js'
import { applyEntry, initialState, snapshotState, stateRoot, type FinalEntry, type LogEntry } from '../src/governance/index.js'
import { seededRandom } from '../test/helpers/seeded-random.js'

const N = Number(process.env.BENCH_GOV_ENTRIES ?? 100_000)
const MEMBERS = 500
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR


function key(family: string, i: number): KeyPair {
  return keyPairFromSecret(sha256(`bench-${family}-${i}`))
}

/** A complete manifest (models layer schema) of a made-up model. */
function benchManifest(i: number): Record<string, unknown> {
  return {
    schemaVersion: 1,
    name: `model-${i}`,
    version: '1.0.0',
    license: 'Apache-2.0',
    architecture: {
      name: 'llama',
      hyperparameters: { contextLength: 2048, embeddingLength: 512, blockCount: 8, feedForwardLength: 1408, headCount: 8, headCountKv: 8, ropeFreqBase: 10000, rmsNormEpsilon: 1e-5, vocabSize: 4096 },
      parameters: 30_000_000,
    },
    quantization: 'Q8_0',
    tokenizer: { model: 'gpt2', pre: 'gpt-2', vocabSize: 4096, merges: 3800 },
    file: { name: `model-${i}.gguf`, sha256: sha256Hex(`model-${i}`), size: 33_000_000 },
    provenance: { kind: 'synthetic', generator: 'bench/gov.ts', seed: i },
  }
}

function generate(): { genesis: ReturnType<typeof createGenesis>; entries: FinalEntry[] } {
  const rand = seededRandom(42)
  const members = Array.from({ length: MEMBERS }, (_, i) => key('member', i))
  const ids = members.map((k) => bytesToHex(k.publicKey))
  const genesis = createGenesis({
    network: 'bench-gov',
    created: 1_700_000_000_000,
    members: ids,
    witnesses: [bytesToHex(key('witness', 0).publicKey)],
    epochMs: HOUR,
    params: { discussionDelayMs: HOUR, votingPeriodMs: 2 * DAY, timelockMs: 6 * HOUR, admissionPeriodMs: 7 * DAY, quorumBps: 1000 },
  })
  const network = networkIdOf(genesis)
  const seqs = new Map<KeyPair, number>()
  const entries: FinalEntry[] = []
  let time = genesis.created + 1000
  const open: number[] = []
  let candidate = 0
  let pendingVouches = 0
  const push = (k: KeyPair, kind: string, body: unknown): number => {
    const seq = (seqs.get(k) ?? 0) + 1
    seqs.set(k, seq)
    const unsigned = { v: 1 as const, network, kind, author: bytesToHex(k.publicKey), seq, time, body }
    const entry: LogEntry = { ...unsigned, sig: bytesToHex(sign(entrySigningBytes(unsigned), k.secretKey)) }
    const index = entries.length
    entries.push({ entry, index, time })
    return index
  }
  while (entries.length < N) {
    // A final checkpoint every ~minute; several entries share a checkpoint time.
    if (rand() < 0.5) time += Math.floor(rand() * 2 * MINUTE)
    const who = members[Math.floor(rand() * MEMBERS)]!
    const r = rand()
    if (r < 0.01 || open.length === 0) {
      const t = rand()
      const action =
        t < 0.4
          ? { type: 'admit-model', manifest: benchManifest(entries.length) }
          : t < 0.8
            ? { type: 'set-parameter', name: 'timelockMs', value: Math.floor(rand() * 12) * HOUR }
            : { type: 'amend-constitution', text: `Amendment ${entries.length}: members keep the network open.` }
      open.push(push(who, 'propose', { title: `proposal ${entries.length}`, rationale: 'bench', action }))
      if (open.length > 40) open.shift()
    } else if (r < 0.9) {
      push(who, 'vote', { proposal: open[Math.floor(rand() * open.length)]!, choice: rand() < 0.7 ? 'yes' : rand() < 0.5 ? 'no' : 'abstain' })
    } else if (r < 0.94) {
      // Two vouches per candidate: alternate.
      push(who, 'member-vouch', { candidate: sha256Hex(`candidate-${candidate}`) })
      if (++pendingVouches === 2) {
        pendingVouches = 0
        candidate++
      }
    } else if (r < 0.995) {
      const to = rand() < 0.2 ? null : ids[Math.floor(rand() * MEMBERS)]!
      push(who, 'delegate', { to })
    } else {
      push(who, 'note' as string, { text: 'receipt' })
    }
  }
  return { genesis, entries }
}

export async function run(): Promise<Record<string, unknown>> {
  const g0 = performance.now()
  const { genesis, entries } = generate()
  const generateMs = performance.now() - g0
  process.stderr.write(`gov bench: generated ${entries.length} signed entries in ${(generateMs / 1000).toFixed(1)} s\n`)

  const replay = (): { ms: number; state: ReturnType<typeof initialState> } => {
    const t0 = performance.now()
    const state = initialState(genesis)
    for (const fe of entries) applyEntry(state, fe)
    return { ms: performance.now() - t0, state }
  }
  const first = replay()
  const r0 = performance.now()
  const root = stateRoot(first.state)
  const rootMs = performance.now() - r0
  const second = replay()
  const root2 = stateRoot(second.state)
  // Best of two runs: this machine is shared, and the best run is the least disturbed one.
  const best = Math.min(first.ms, second.ms)
  const proposals = Object.values(first.state.proposals)
  return {
    entries: entries.length,
    replayMs: Math.round(best),
    entriesPerSecond: Math.round((entries.length / best) * 1000),
    targetMs: 2000,
    withinTarget: best < 2000,
    replayRunsMs: [Math.round(first.ms), Math.round(second.ms)],
    stateRootMs: Math.round(rootMs),
    stateRoot: root,
    deterministic: root === root2,
    snapshotBytes: snapshotState(first.state).length,
    members: Object.values(first.state.members).filter((m) => m.status === 'active').length,
    proposals: proposals.length,
    executed: proposals.filter((p) => p.status === 'executed').length,
    failed: proposals.filter((p) => p.status === 'failed').length,
    rejections: first.state.rejections.length,
    generateMs: Math.round(generateMs),
  }
}
