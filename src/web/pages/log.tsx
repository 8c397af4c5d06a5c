import { useEffect, useState } from 'preact/hooks'
import { hexToBytes, bytesToHex } from '@noble/hashes/utils.js'
import { ApiError, getJson } from '../api.js'
import { leafHash, verifyInclusion } from '../../ledger/merkle.js'
import { Card, Empty, ErrorNote, Id, KeyValues, Stat } from '../components/ui.js'
import { useJson } from '../hooks.js'

export interface CosignatureView {
  witness: string
  time?: number
  valid?: boolean
}

export interface CheckpointView {
  size: number
  root: string
  time?: number
  epoch?: number
  note?: string
  cosignatures: CosignatureView[]
  final?: boolean
}

export interface LogStatusView {
  network?: string
  origin?: string
  size: number
  root?: string
  threshold?: number
  witnesses?: string[]
  pending?: number
}

export interface EntryView {
  index: number
  hash: string
  /** RFC 8785 canonical JSON of the entry: the exact bytes hashed into the tree. */
  canonical: string
  entry: Record<string, unknown>
}

export interface ProofView {
  index: number
  size: number
  root: string
  proof: string[]
}

type Verdict = { ok: boolean; detail: string } | null

/**
 * Checks an inclusion proof here, in the browser, with the same RFC 9162 module the nodes use:
 * the leaf hash is recomputed from the entry's canonical bytes, never taken from the server.
 */
function verifyHere(entry: EntryView, proof: ProofView, checkpoint: CheckpointView | undefined): Verdict {
  const leaf = leafHash(new TextEncoder().encode(entry.canonical))
  const ok = verifyInclusion(leaf, entry.index, proof.size, proof.proof.map(hexToBytes), hexToBytes(proof.root))
  if (!ok) return { ok: false, detail: 'The proof does not lead from this entry to the root: the server sent inconsistent data.' }
  if (checkpoint !== undefined && checkpoint.size === proof.size && checkpoint.root !== proof.root) {
    return { ok: false, detail: 'The proof is valid for a root that differs from the final checkpoint of the same size.' }
  }
  const cosigned = checkpoint !== undefined && checkpoint.size === proof.size
  return {
    ok: true,
    detail: `Entry #${entry.index} (leaf ${bytesToHex(leaf).slice(0, 12)}…) is included in the tree of size ${proof.size}${
      cosigned ? `, whose root ${proof.root.slice(0, 12)}… is cosigned by ${checkpoint.cosignatures.length} witnesses` : ''
    }.`,
  }
}

function EntryInspector(props: { index: number; latest: CheckpointView | undefined }) {
  const [entry, setEntry] = useState<EntryView | null>(null)
  const [proof, setProof] = useState<ProofView | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [verdict, setVerdict] = useState<Verdict>(null)
  useEffect(() => {
    const controller = new AbortController()
    setEntry(null)
    setProof(null)
    setVerdict(null)
    setError(null)
    const sizeQuery = props.latest !== undefined ? `?size=${props.latest.size}` : ''
    Promise.all([
      getJson<EntryView>(`/api/log/entries/${props.index}`, controller.signal),
      getJson<ProofView>(`/api/log/proof/${props.index}${sizeQuery}`, controller.signal),
    ])
      .then(([e, p]) => {
        setEntry(e)
        setProof(p)
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(err instanceof ApiError ? err.message : 'could not load the entry')
      })
    return () => controller.abort()
  }, [props.index, props.latest?.size])
  return (
    <Card title={`Entry #${props.index}`}>
      <ErrorNote error={error} />
      {entry && (
        <>
          <KeyValues
            rows={[
              ['kind', String(entry.entry.kind ?? '—')],
              ['author', <Id value={String(entry.entry.author ?? '')} />],
              ['seq', String(entry.entry.seq ?? '—')],
              ['time', entry.entry.time ? new Date(Number(entry.entry.time)).toLocaleString() : '—'],
              ['hash', <Id value={entry.hash} />],
            ]}
          />
          <details>
            <summary>Signed body</summary>
            <pre class="code">{JSON.stringify(entry.entry.body, null, 2)}</pre>
          </details>
        </>
      )}
      {proof && (
        <details>
          <summary>
            Inclusion proof ({proof.proof.length} hashes, tree size {proof.size})
          </summary>
          <ol class="proof">
            {proof.proof.map((h, i) => (
              <li key={i}>
                <code>{h}</code>
              </li>
            ))}
          </ol>
        </details>
      )}
      {entry && proof && (
        <div class="verify">
          <button type="button" onClick={() => setVerdict(verifyHere(entry, proof, props.latest))}>
            Verify in my browser
          </button>
          {verdict && (
            <p class={`note ${verdict.ok ? 'ok' : 'error'}`} role="status" data-testid="verdict">
              {verdict.ok ? '✓ Verified. ' : '✗ Not verified. '}
              {verdict.detail}
            </p>
          )}
        </div>
      )}
    </Card>
  )
}

export function LogPage(props: { selected: number | null }) {
  const status = useJson<LogStatusView>('/api/log/status', 3000)
  const checkpoints = useJson<{ checkpoints: CheckpointView[] }>('/api/log/checkpoints?limit=10', 3000)
  const [query, setQuery] = useState(props.selected === null ? '' : String(props.selected))
  const [searchError, setSearchError] = useState<string | null>(null)
  const latest = checkpoints.data?.checkpoints[0]

  const search = async (event: Event): Promise<void> => {
    event.preventDefault()
    const q = query.trim()
    setSearchError(null)
    if (/^\d+$/.test(q)) {
      location.hash = `#/log/${q}`
      return
    }
    if (/^[0-9a-f]{64}$/i.test(q)) {
      try {
        const found = await getJson<EntryView>(`/api/log/entries/by-hash/${q.toLowerCase()}`)
        location.hash = `#/log/${found.index}`
      } catch (err) {
        setSearchError(err instanceof ApiError ? err.message : 'no such entry')
      }
      return
    }
    setSearchError('Enter an entry index (a number) or an entry hash (64 hex characters).')
  }

  return (
    <div class="stack">
      <div class="stats">
        <Stat label="entries" value={status.data?.size ?? '—'} />
        <Stat label="final checkpoints" value={checkpoints.data?.checkpoints.length ?? '—'} />
        <Stat label="witness threshold" value={status.data?.threshold !== undefined ? `${status.data.threshold} of ${status.data.witnesses?.length ?? '?'}` : '—'} />
        <Stat label="pending" value={status.data?.pending ?? '—'} />
      </div>
      <Card title="Find an entry">
        <form class="inline" onSubmit={(e) => void search(e)}>
          <label class="sr-only" for="entry-query">
            Entry index or hash
          </label>
          <input id="entry-query" placeholder="entry index or hash" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          <button type="submit">Show</button>
        </form>
        <ErrorNote error={searchError} />
      </Card>
      {props.selected !== null && <EntryInspector index={props.selected} latest={latest} />}
      <Card title="Latest final checkpoints">
        <ErrorNote error={checkpoints.error ?? status.error} />
        {checkpoints.data?.checkpoints.length === 0 && <Empty>No checkpoint is final yet.</Empty>}
        {checkpoints.data?.checkpoints.map((c) => (
          <details key={`${c.size}-${c.root}`} class="checkpoint">
            <summary>
              size <strong>{c.size}</strong> · root <Id value={c.root} /> · {c.cosignatures.length} cosignatures
              {c.time !== undefined && <span class="muted"> · {new Date(c.time).toLocaleString()}</span>}
            </summary>
            {c.note && <pre class="code">{c.note}</pre>}
            <ul class="cosigs">
              {c.cosignatures.map((s) => (
                <li key={s.witness}>
                  <Id value={s.witness} /> {s.time !== undefined && <span class="muted">at {new Date(s.time * 1000).toLocaleTimeString()}</span>}
                </li>
              ))}
            </ul>
            {c.size > 0 && <a href={`#/log/${c.size - 1}`}>Inspect the last entry of this checkpoint</a>}
          </details>
        ))}
      </Card>
    </div>
  )
}
