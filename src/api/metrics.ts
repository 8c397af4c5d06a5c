import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Load of one served model, sampled when Prometheus scrapes. */
export interface ModelLoad {
  readonly model: string
  readonly activeSlots: number
  readonly queueDepth: number
  readonly parallel: number
}

/**
 * The API's Prometheus metrics, registered on a registry owned by one node (never prom-client's
 * global one: several nodes may share a process in tests and `commons swarm`).
 */
export interface ApiMetrics {
  readonly registry: Registry
  readonly requests: Counter<'route' | 'method' | 'status'>
  readonly tokensGenerated: Counter<'model'>
  readonly timeToFirstToken: Histogram<'model'>
  readonly tokensPerSecond: Histogram<'model'>
}

/**
 * Creates the API metrics on `registry`. `loads` is called at scrape time to fill the queue-depth
 * and active-slot gauges, so they are never stale.
 */
export function createApiMetrics(registry: Registry, loads: () => readonly ModelLoad[] = () => []): ApiMetrics {
  const requests = new Counter({
    name: 'commons_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const tokensGenerated = new Counter({
    name: 'commons_tokens_generated_total',
    help: 'Output tokens generated for API requests',
    labelNames: ['model'] as const,
    registers: [registry],
  })
  const timeToFirstToken = new Histogram({
    name: 'commons_time_to_first_token_seconds',
    help: 'Time from receiving a generation request to its first output token',
    labelNames: ['model'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const tokensPerSecond = new Histogram({
    name: 'commons_tokens_per_second',
    help: 'Decode speed of each finished request (output tokens after the first / decode time)',
    labelNames: ['model'] as const,
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [registry],
  })
  new Gauge({
    name: 'commons_queue_depth',
    help: 'Requests waiting for a free slot',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      for (const load of loads()) this.set({ model: load.model }, load.queueDepth)
    },
  })
  new Gauge({
    name: 'commons_active_slots',
    help: 'Slots currently generating',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      for (const load of loads()) this.set({ model: load.model }, load.activeSlots)
    },
  })
  new Gauge({
    name: 'commons_slots',
    help: 'Slots (parallel sequences) per loaded model',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      for (const load of loads()) this.set({ model: load.model }, load.parallel)
    },
  })
  return { registry, requests, tokensGenerated, timeToFirstToken, tokensPerSecond }
}
