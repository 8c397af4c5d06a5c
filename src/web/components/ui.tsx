import type { ComponentChildren } from 'preact'
import { shortId } from '../api.js'

export function Card(props: { title?: string; actions?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${props.class ?? ''}`}>
      {(props.title !== undefined || props.actions !== undefined) && (
        <header class="card-head">
          {props.title !== undefined && <h2>{props.title}</h2>}
          {props.actions}
        </header>
      )}
      {props.children}
    </section>
  )
}

export function ErrorNote(props: { error: string | null }) {
  if (props.error === null) return null
  return (
    <p class="note error" role="alert">
      {props.error}
    </p>
  )
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="note muted">{props.children}</p>
}

/** A long hex id, shortened, with the full value on hover and a copy button. */
export function Id(props: { value: string | null | undefined; href?: string }) {
  const text = shortId(props.value)
  const inner = (
    <code class="id" title={props.value ?? ''}>
      {text}
    </code>
  )
  return props.href ? <a href={props.href}>{inner}</a> : inner
}

export function Stat(props: { label: string; value: ComponentChildren }) {
  return (
    <div class="stat">
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
    </div>
  )
}

export function KeyValues(props: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  )
}

/** Tiny SVG line chart for a live series; no chart library needed for one line. */
export function Sparkline(props: { values: readonly number[]; label: string; width?: number; height?: number }) {
  const width = props.width ?? 480
  const height = props.height ?? 96
  const max = Math.max(1, ...props.values)
  const step = props.values.length > 1 ? width / (props.values.length - 1) : width
  const points = props.values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 6) - 3).toFixed(1)}`)
  return (
    <figure class="spark">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.label} preserveAspectRatio="none">
        <polyline points={points.join(' ')} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
      </svg>
      <figcaption>
        {props.label}: now {props.values.at(-1)?.toFixed(1) ?? '0'}, peak {max.toFixed(1)}
      </figcaption>
    </figure>
  )
}
