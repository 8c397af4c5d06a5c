import { Counter, Gauge, type Registry } from 'prom-client'

/**
 * Metrics of the p2p layer, registered on the node's own registry (the one `/metrics` renders;
 * never prom-client's global one, since several nodes may share a process in tests).
 */
export interface P2pMetrics {
  /** Capability records accepted into the peer table. */
  readonly capabilityAccepted: Counter
  /** Capability records dropped, by reason (`malformed`, `unsigned`, `forged`, `stale`, `replayed`). */
  readonly capabilityDropped: Counter<'reason'>
  /** Job protocol frames or requests refused, by reason. */
  readonly jobRejected: Counter<'reason'>
  /** Receipts received from workers, by outcome (`valid`, `invalid`). */
  readonly receipts: Counter<'outcome'>
  /** Remote jobs re-routed to another worker after a failure. */
  readonly failovers: Counter
  /** DHT provider lookups, by key kind (`model`, `workers`) and outcome (`found`, `none`, `error`). */
  readonly dhtLookups: Counter<'key' | 'outcome'>
  /** DHT key announcements (provide), by outcome (`reached`: at least one peer took the record). */
  readonly dhtAnnouncements: Counter<'outcome'>
}

/** Creates the p2p metrics on `registry`; `peerCount` is read at scrape time. */
export function createP2pMetrics(registry: Registry, peerCount: () => number = () => 0): P2pMetrics {
  new Gauge({
    name: 'commons_p2p_peers',
    help: 'Workers with a fresh capability record in the peer table',
    registers: [registry],
    collect() {
      this.set(peerCount())
    },
  })
  return {
    capabilityAccepted: new Counter({
      name: 'commons_capability_records_accepted_total',
      help: 'Signed capability records accepted into the peer table',
      registers: [registry],
    }),
    capabilityDropped: new Counter({
      name: 'commons_capability_records_dropped_total',
      help: 'Capability records dropped: malformed, unsigned, forged (bad signature or wrong sender), stale or replayed',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    jobRejected: new Counter({
      name: 'commons_job_frames_rejected_total',
      help: 'Job protocol frames or requests refused: malformed, oversized, rate_limited, invalid_receipt',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    receipts: new Counter({
      name: 'commons_job_receipts_total',
      help: 'Worker receipts received by this gateway, by verification outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    failovers: new Counter({
      name: 'commons_job_failovers_total',
      help: 'Remote jobs resumed on another worker after the first one died or stalled',
      registers: [registry],
    }),
    dhtLookups: new Counter({
      name: 'commons_dht_lookups_total',
      help: 'DHT provider lookups for a model or for workers, by outcome',
      labelNames: ['key', 'outcome'] as const,
      registers: [registry],
    }),
    dhtAnnouncements: new Counter({
      name: 'commons_dht_announcements_total',
      help: 'DHT provider announcements of served models, by whether any peer took them',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  }
}
