import type { ComponentChildren } from 'preact'
import type { ModelEntry } from '../api.js'
import { Card, Empty, ErrorNote, Id, KeyValues } from '../components/ui.js'
import { useJson } from '../hooks.js'

type Json = Record<string, unknown>

function asObject(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '—'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** Renders one level of a manifest section as key/value rows, nested objects as inline JSON. */
function Section(props: { title: string; value: unknown }) {
  const obj = asObject(props.value)
  if (obj === null) return null
  return (
    <details class="manifest-section" open>
      <summary>{props.title}</summary>
      <KeyValues rows={Object.entries(obj).map(([k, v]) => [k, <span class="wrap">{text(v)}</span>] as [string, ComponentChildren])} />
    </details>
  )
}

/** How the network decided to serve this model, with links to the log entries behind it. */
function Admission(props: { value: unknown }) {
  const a = asObject(props.value)
  if (a === null) return <p class="note muted">This node does not report an admission for this model.</p>
  if (a.by === 'genesis') {
    return (
      <KeyValues
        rows={[
          ['admitted by', 'the genesis of this network (listed when the network was created)'],
          ['network', <Id value={typeof a.network === 'string' ? a.network : null} />],
        ]}
      />
    )
  }
  const entries = Array.isArray(a.entries) ? (a.entries as unknown[]).filter((e): e is number => typeof e === 'number') : []
  return (
    <KeyValues
      rows={[
        ['admitted by', 'a proposal the members voted for'],
        ['proposal', text(a.proposalId ?? a.proposal)],
        ['proposed by', <Id value={typeof a.proposer === 'string' ? a.proposer : null} />],
        [
          'log entries',
          entries.length === 0 ? '—' : (
            <span class="links">
              {entries.map((i) => (
                <a key={i} href={`#/log/${i}`}>
                  #{i}
                </a>
              ))}
            </span>
          ),
        ],
      ]}
    />
  )
}

function ModelCard(props: { model: ModelEntry }) {
  const m = props.model
  const manifest = asObject(m.manifest)
  const known = new Set(['name', 'version', 'license', 'weightsLicense', 'architecture', 'hyperparameters', 'tokenizer', 'file', 'corpus', 'training', 'evaluation', 'eval', 'provenance'])
  // The manifest's `provenance` (kind, code commit, seed, steps…) minus the corpus, shown under its own heading.
  const run = asObject(manifest?.provenance)
  const training = run === null ? manifest?.training : Object.fromEntries(Object.entries(run).filter(([k]) => k !== 'corpus'))
  const corpus = run?.corpus ?? manifest?.corpus
  const rest = manifest === null ? null : Object.fromEntries(Object.entries(manifest).filter(([k]) => !known.has(k)))
  const license = manifest?.weightsLicense ?? manifest?.license ?? asObject(manifest?.weights)?.license
  return (
    <Card title={m.id} class="model-card">
      <KeyValues
        rows={[
          ['license', text(license)],
          ['version', text(manifest?.version)],
          ['file sha256', <Id value={m.sha256 ?? text(asObject(manifest?.file)?.sha256)} />],
          ['context', m.context_length === undefined ? '—' : `${m.context_length} tokens`],
          ['served by', text(m.owned_by)],
        ]}
      />
      {manifest === null ? (
        <p class="note warn">This model has no provenance manifest. Commons admits only models whose license, data, code and evaluation are published.</p>
      ) : (
        <div class="manifest" data-testid="manifest">
          <Section title="Architecture" value={manifest.architecture} />
          <Section title="Hyperparameters" value={manifest.hyperparameters} />
          <Section title="Tokenizer" value={manifest.tokenizer} />
          <Section title="Training data" value={corpus} />
          <Section title="Training code and run" value={training} />
          <Section title="Evaluation" value={manifest.evaluation ?? manifest.eval} />
          <Section title="File" value={manifest.file} />
          {rest !== null && Object.keys(rest).length > 0 && <Section title="Other" value={rest} />}
        </div>
      )}
      <h3>Admission</h3>
      <Admission value={m.admission} />
      {m.manifest_url && (
        <p>
          <a href={String(m.manifest_url)} target="_blank" rel="noreferrer">
            Raw manifest JSON
          </a>
        </p>
      )}
    </Card>
  )
}

export function ModelsPage() {
  const models = useJson<{ data: ModelEntry[] }>('/v1/models')
  return (
    <div class="stack">
      <p class="lede">Every model here was admitted by the members of this network, and ships with its full provenance.</p>
      <ErrorNote error={models.error} />
      {models.data?.data.length === 0 && <Empty>No model is admitted yet.</Empty>}
      {models.data?.data.map((m) => <ModelCard key={m.id} model={m} />)}
    </div>
  )
}
