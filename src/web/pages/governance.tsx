import { useState } from 'preact/hooks'
import { ApiError, postJson } from '../api.js'
import { Card, Empty, ErrorNote, Id, Stat } from '../components/ui.js'
import { useJson } from '../hooks.js'

export interface TallyView {
  yes: number
  no: number
  abstain: number
}

/** A proposal as `/api/gov/proposals` lists it (src/governance/queries.ts). */
export interface ProposalView {
  /** The log index of its `propose` entry. */
  id: number
  type: string
  title: string
  proposer: string
  status: string
  tally: TallyView
  /** True while the vote is open: the tally may still change. */
  provisional: boolean
  electorate: number
  /** Participation needed, in basis points of the electorate. */
  quorumBps: number
  /** Share of yes among yes+no needed to pass, in basis points. */
  thresholdBps: number
  votingStartsAt?: number
  votingEndsAt?: number
  myVote?: string | null
  entries?: number[]
}

export interface MemberView {
  id: string
  status: string
  since?: number
  vouchedBy?: string[]
  delegatesTo?: string | null
}

const POLL_MS = 2000

function pct(x: number): string {
  return `${Math.round(x * 100)}%`
}

function bps(x: number): string {
  return `${(x / 100).toFixed(x % 100 === 0 ? 0 : 1)}%`
}

function when(ms: number | undefined): string {
  return ms === undefined ? '—' : new Date(ms).toLocaleString()
}

function TallyBar(props: { proposal: ProposalView }) {
  const { tally, electorate, quorumBps } = props.proposal
  const quorum = quorumBps / 10_000
  const total = Math.max(1, electorate)
  const voted = tally.yes + tally.no + tally.abstain
  return (
    <div class="tally" aria-label={`yes ${tally.yes}, no ${tally.no}, abstain ${tally.abstain} of ${electorate} members`}>
      <div class="bar">
        <span class="yes" style={{ width: pct(tally.yes / total) }} />
        <span class="no" style={{ width: pct(tally.no / total) }} />
        <span class="abstain" style={{ width: pct(tally.abstain / total) }} />
        <span class="quorum" style={{ left: pct(quorum) }} title={`quorum ${pct(quorum)}`} />
      </div>
      <div class="tally-text" data-testid="tally">
        yes {tally.yes} · no {tally.no} · abstain {tally.abstain} · turnout {voted}/{electorate} (quorum {bps(quorumBps)})
      </div>
    </div>
  )
}

function ProposalCard(props: { proposal: ProposalView; onChange: () => void }) {
  const p = props.proposal
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const vote = async (choice: 'yes' | 'no' | 'abstain'): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await postJson('/api/gov/vote', { proposal: p.id, choice })
      props.onChange()
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'the node did not answer')
    } finally {
      setBusy(false)
    }
  }
  const open = p.status === 'voting'
  return (
    <article class="proposal" data-testid="proposal" data-id={p.id}>
      <header>
        <span class={`tag status-${p.status}`}>{p.status}</span> <strong>{p.title}</strong>
        <span class="muted small">
          {' '}
          · #{p.id} · {p.type} · by <Id value={p.proposer} />
        </span>
      </header>
      <TallyBar proposal={p} />
      <p class="muted small">
        voting {when(p.votingStartsAt)} → {when(p.votingEndsAt)} · passes with {bps(p.thresholdBps)} yes
        {p.entries && p.entries.length > 0 && (
          <>
            {' '}
            · entries{' '}
            {p.entries.map((i) => (
              <a key={i} href={`#/log/${i}`}>
                #{i}{' '}
              </a>
            ))}
          </>
        )}
      </p>
      {open && (
        <div class="vote-buttons" role="group" aria-label="Vote">
          <button type="button" disabled={busy} onClick={() => void vote('yes')}>
            Yes
          </button>
          <button type="button" class="ghost" disabled={busy} onClick={() => void vote('no')}>
            No
          </button>
          <button type="button" class="ghost" disabled={busy} onClick={() => void vote('abstain')}>
            Abstain
          </button>
          {p.myVote && <span class="muted small">your vote: {p.myVote}</span>}
        </div>
      )}
      <ErrorNote error={error} />
    </article>
  )
}

const PARAMETERS = ['votingPeriodMs', 'discussionDelayMs', 'timelockMs', 'quorumBps', 'majorityBps', 'vouchesRequired', 'maxDelegateShareBps'] as const

function NewProposal(props: { onCreated: () => void }) {
  const [kind, setKind] = useState<'set-parameter' | 'retire-model' | 'amend-constitution'>('set-parameter')
  const [title, setTitle] = useState('')
  const [name, setName] = useState<string>(PARAMETERS[0])
  const [value, setValue] = useState('')
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      let action: Record<string, unknown>
      if (kind === 'set-parameter') {
        const parsed = Number(value)
        if (value.trim() === '' || !Number.isFinite(parsed)) throw new ApiError(400, 'The value must be a number.', null)
        action = { type: kind, name, value: parsed }
      } else if (kind === 'retire-model') {
        action = { type: kind, sha256: text.trim() }
      } else {
        action = { type: kind, text }
      }
      await postJson('/api/gov/propose', { title, action })
      setTitle('')
      setValue('')
      setText('')
      props.onCreated()
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'the node did not answer')
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="form" onSubmit={(e) => void submit(e)} aria-label="New proposal">
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value as typeof kind)}>
          <option value="set-parameter">Change a parameter</option>
          <option value="retire-model">Retire a model</option>
          <option value="amend-constitution">Amend the constitution</option>
        </select>
      </label>
      <label>
        Title
        <input required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      {kind === 'set-parameter' && (
        <div class="row">
          <label>
            Parameter
            <select value={name} onChange={(e) => setName(e.currentTarget.value)}>
              {PARAMETERS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label>
            New value
            <input required inputMode="decimal" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
          </label>
        </div>
      )}
      {kind === 'retire-model' && (
        <label>
          Model sha256
          <input required pattern="[0-9a-f]{64}" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      )}
      {kind === 'amend-constitution' && (
        <label>
          New constitution text
          <textarea required rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      )}
      <button type="submit" disabled={busy}>
        Propose, signed by this node
      </button>
      <ErrorNote error={error} />
    </form>
  )
}

export function GovernancePage() {
  const proposals = useJson<{ proposals: ProposalView[] }>('/api/gov/proposals', POLL_MS)
  const members = useJson<{ members: MemberView[] }>('/api/gov/members', POLL_MS * 5)
  const state = useJson<{ stateRoot: string; size?: number }>('/api/state', POLL_MS)
  const list = proposals.data?.proposals ?? []
  const open = list.filter((p) => p.status === 'voting' || p.status === 'pending')
  const closed = list.filter((p) => !(p.status === 'voting' || p.status === 'pending'))
  const active = members.data?.members.filter((m) => m.status === 'active').length
  return (
    <div class="stack">
      <div class="stats">
        <Stat label="active members" value={active ?? '—'} />
        <Stat label="open proposals" value={open.length} />
        <Stat label="state root" value={<Id value={state.data?.stateRoot} />} />
      </div>
      <p class="lede">Entries you create here are signed by this node's key and become effective once a final checkpoint includes them.</p>
      <Card title="Open proposals">
        <ErrorNote error={proposals.error} />
        {open.length === 0 && <Empty>Nothing to vote on right now.</Empty>}
        {open.map((p) => (
          <ProposalCard key={p.id} proposal={p} onChange={proposals.reload} />
        ))}
      </Card>
      <Card title="New proposal">
        <NewProposal onCreated={proposals.reload} />
      </Card>
      {closed.length > 0 && (
        <Card title="Decided">
          {closed.map((p) => (
            <ProposalCard key={p.id} proposal={p} onChange={proposals.reload} />
          ))}
        </Card>
      )}
      <Card title="Members">
        <ErrorNote error={members.error} />
        <ul class="members">
          {members.data?.members.map((m) => (
            <li key={m.id}>
              <Id value={m.id} />
              {m.status !== 'active' && <span class="tag">{m.status}</span>}
              {m.delegatesTo && (
                <span class="muted small">
                  {' '}
                  delegates to <Id value={m.delegatesTo} />
                </span>
              )}
            </li>
          ))}
        </ul>
      </Card>
    </div>
  )
}
