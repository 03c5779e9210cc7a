import type { Context } from 'hono'
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client'
import type { StatusSnapshot } from './status/snapshot.js'

/**
 * The gateway's Prometheus metrics (`GET /metrics`), in a registry of its own.
 *
 * The request path never touches prom-client: each exchange adds to plain numbers held by
 * its service (`forService(name)`, looked up once per route) — an array slot per method
 * and status, a histogram bucket — with no label strings built and no lookups by string
 * (prom-client's own label children hash their labels into a string on every call: ten
 * times the cost, measured). prom-client reads those numbers when Prometheus scrapes.
 * What mirrors state (replicas up, breakers, event counts, SSE clients) is read at scrape
 * time from the status snapshot. Per-replica rates and latencies for the status page are
 * the health registry's (gateway/src/health), not kept twice.
 */

/** Histogram bounds of `dx_http_request_duration_seconds`, in seconds. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'] as const
/** Status codes 100–599 have their own slot; anything else (none sent) counts as 0. */
const STATUS_SLOTS = 600

function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0
    case 'HEAD':
      return 1
    case 'POST':
      return 2
    case 'PUT':
      return 3
    case 'PATCH':
      return 4
    case 'DELETE':
      return 5
    case 'OPTIONS':
      return 6
    default:
      return 7
  }
}

/** Why the gateway answered for a service: a fallback fragment, a stale copy, an error page, a failed write's message. */
export type FallbackKind = 'fallback' | 'stale' | 'error-page' | 'write-error' | (string & {})

/**
 * The counters of one service. `requestDone` and `fallback` are what the proxy calls on
 * every exchange: array and map updates, nothing else.
 */
export class ServiceMetrics {
  /** Requests by method and status: `requests[method * 600 + status]`. */
  readonly requests = new Float64Array(METHODS.length * STATUS_SLOTS)
  /** Non-cumulative histogram buckets; the last one is `+Inf`. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1)
  sum = 0
  count = 0
  readonly fallbacks = new Map<string, number>()

  constructor(readonly name: string) {}

  /** One exchange ended (any way: answered, fallback, refused, client gone) with `status` after `seconds`. */
  requestDone(method: string | undefined, status: number, seconds: number) {
    const st = status >= 100 && status < STATUS_SLOTS ? status : 0
    this.requests[methodIndex(method) * STATUS_SLOTS + st]++
    let b = 0
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]) b++
    this.buckets[b]++
    this.sum += seconds
    this.count++
  }

  /** The gateway answered in the service's place; `kind` is a fixed word, never built per request. */
  fallback(kind: FallbackKind) {
    this.fallbacks.set(kind, (this.fallbacks.get(kind) ?? 0) + 1)
  }
}

export type MetricsOptions = {
  /** The state the scrape-time gauges mirror; it can also be given later with `setSnapshot`. */
  snapshot?: () => StatusSnapshot
  /** Node's process metrics (CPU, memory, event loop lag, GC); default on. */
  processMetrics?: boolean
}

export type Metrics = ReturnType<typeof createMetrics>

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const

type Value = { labels: Record<string, string | number>; value: number; metricName?: string }

/**
 * A metric prom-client's registry writes out like one of its own (it calls `get()` at each
 * scrape), filled from numbers the request path keeps in plain arrays.
 */
function scraped(name: string, help: string, type: 'counter' | 'histogram', values: () => Value[]): Metric {
  const m = {
    name,
    help,
    type,
    aggregator: 'sum',
    collect: () => {},
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => {},
  }
  return m as unknown as Metric
}

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry()
  const services = new Map<string, ServiceMetrics>()
  let snapshotFn = opts.snapshot
  /** One snapshot per scrape, shared by every gauge that reads it. */
  let current: StatusSnapshot | undefined
  const snap = (): StatusSnapshot | undefined => current ?? snapshotFn?.()

  function forService(name: string): ServiceMetrics {
    let s = services.get(name)
    if (!s) services.set(name, (s = new ServiceMetrics(name)))
    return s
  }

  registry.registerMetric(
    scraped('dx_http_requests_total', 'Requests through the gateway to a service, by method and the status sent to the client.', 'counter', () => {
      const out: Value[] = []
      for (const s of services.values()) {
        const r = s.requests
        for (let i = 0; i < r.length; i++) {
          if (r[i] === 0) continue
          const status = i % STATUS_SLOTS
          out.push({ labels: { service: s.name, method: METHODS[Math.floor(i / STATUS_SLOTS)], status: status === 0 ? 'none' : String(status) }, value: r[i] })
        }
      }
      return out
    }),
  )
  registry.registerMetric(
    scraped('dx_http_request_duration_seconds', 'Time from a request reaching the gateway to its response ending, by service.', 'histogram', () => {
      const out: Value[] = []
      const name = 'dx_http_request_duration_seconds'
      for (const s of services.values()) {
        let cumulative = 0
        for (let b = 0; b < s.buckets.length; b++) {
          cumulative += s.buckets[b]
          const le = b < DURATION_BUCKETS.length ? String(DURATION_BUCKETS[b]) : '+Inf'
          out.push({ metricName: `${name}_bucket`, labels: { service: s.name, le }, value: cumulative })
        }
        out.push({ metricName: `${name}_sum`, labels: { service: s.name }, value: s.sum })
        out.push({ metricName: `${name}_count`, labels: { service: s.name }, value: s.count })
      }
      return out
    }),
  )
  registry.registerMetric(
    scraped('dx_fallbacks_total', 'Answers the gateway gave in place of a service: fallback fragment, stale copy, error page, failed write.', 'counter', () => {
      const out: Value[] = []
      for (const s of services.values()) for (const [kind, n] of s.fallbacks) out.push({ labels: { service: s.name, kind }, value: n })
      return out
    }),
  )

  new Gauge({
    name: 'dx_upstream_up',
    help: 'Whether a replica is up (1) or not (0: down, draining, not a distributex service, not checked yet).',
    labelNames: ['service', 'replica'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of snap()?.services ?? []) for (const r of s.replicas) this.set({ service: s.name, replica: r.url }, r.health === 'up' ? 1 : 0)
    },
  })
  new Gauge({
    name: 'dx_breaker_state',
    help: 'Circuit breaker of a replica: 0 closed, 1 half-open, 2 open.',
    labelNames: ['service', 'replica'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of snap()?.services ?? []) for (const r of s.replicas) this.set({ service: s.name, replica: r.url }, BREAKER_VALUE[r.breaker] ?? 0)
    },
  })
  new Counter({
    name: 'dx_events_relayed_total',
    help: 'Events put on the bus, by name.',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [name, n] of Object.entries(snap()?.events.relayed ?? {})) this.inc({ name }, n)
    },
  })
  new Counter({
    name: 'dx_events_not_relayed_total',
    help: 'Events of a response that could not be relayed (bad name or detail); they still reach the browser.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(snap()?.events.notRelayed ?? 0)
    },
  })
  new Counter({
    name: 'dx_event_deliveries_total',
    help: 'Deliveries of events to a subscribing service: ok, retried (a try that failed and is tried again), failed (given up), dropped (queue full).',
    labelNames: ['service', 'result'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of snap()?.services ?? []) {
        for (const result of ['ok', 'retried', 'failed', 'dropped'] as const) this.inc({ service: s.name, result }, s.deliveries[result])
      }
    },
  })
  new Gauge({
    name: 'dx_sse_clients',
    help: 'Open event streams (GET /_dx/events).',
    registers: [registry],
    collect() {
      this.set(snap()?.events.sseClients ?? 0)
    },
  })
  new Counter({
    name: 'dx_sse_clients_dropped_total',
    help: 'Event stream clients cut off because they stopped reading.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(snap()?.events.sseDropped ?? 0)
    },
  })
  new Gauge({
    name: 'dx_gateway_draining',
    help: 'Whether the gateway is shutting down (1) or serving (0).',
    registers: [registry],
    collect() {
      this.set(snap()?.gateway.draining ? 1 : 0)
    },
  })
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry })

  /** The exposition text; the snapshot is taken once for all the gauges. */
  async function text(): Promise<string> {
    current = snapshotFn?.()
    try {
      return await registry.metrics()
    } finally {
      current = undefined
    }
  }

  return {
    registry,
    contentType: registry.contentType as string,
    forService,
    text,
    setSnapshot(fn: () => StatusSnapshot) {
      snapshotFn = fn
    },
    /** `GET /metrics` as a Hono handler. */
    handler: async (c: Context) => {
      const body = await text()
      return c.body(body, 200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
    },
  }
}
