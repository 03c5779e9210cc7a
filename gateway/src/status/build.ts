import type { BusView, ReplicaStatus, ServiceStatus, StatusSnapshot } from './snapshot.js'

/**
 * One replica as the health registry reports it (`registry.snapshot()` of
 * gateway/src/health): only the fields the status page uses, so either side can grow.
 */
export type RegistryReplica = {
  url: string
  health: ReplicaStatus['health']
  reason?: string
  breaker: { state: ReplicaStatus['breaker'] }
  rps: number
  p50Ms: number | null
  p99Ms: number | null
  lastError?: { message: string; at: string } | null
}
export type RegistryView = { services: readonly { name: string; replicas: readonly RegistryReplica[] }[] }

type Counts = { ok: number; retried: number; failed: number; dropped: number }

export type SnapshotSources = {
  /** When the gateway started (ms since the epoch). */
  startedAt: number
  draining: boolean
  /** `memory`, or the NATS URL (a user or password in it is never shown). */
  bus: string
  /** `bus.status()`: its connection state. */
  busStatus?: { state: string; since: number; buffered: number; dropped: number }
  /** The configured services, in page order. */
  services: readonly { name: string; title: string; upstreams: readonly URL[] }[]
  /** `registry.snapshot()`: health, breaker, rates, latency and last error of every replica. */
  registry?: RegistryView
  /** `delivery.subscriptions` */
  subscriptions?: ReadonlyMap<string, ReadonlySet<string>>
  /** `delivery.stats` */
  deliveries?: ReadonlyMap<string, Counts>
  /** `relay.stats` */
  relay?: { relayed: ReadonlyMap<string, number>; notRelayed: number }
  /** The SSE hub. */
  sse?: { clients(): number; readonly dropped: number }
  now?: number
}

/** A bus address without user or password. */
export function busLabel(bus: string): string {
  try {
    const u = new URL(bus)
    if (!u.username && !u.password) return bus
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return bus
  }
}

function replicaStatus(url: URL, r: RegistryReplica | undefined): ReplicaStatus {
  if (!r) return { url: url.origin, health: 'unknown', breaker: 'closed', rps: 0, p50Ms: null, p99Ms: null }
  const out: ReplicaStatus = { url: url.origin, health: r.health, breaker: r.breaker.state, rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms }
  if (r.reason) out.reason = r.reason
  if (r.lastError) out.lastError = { message: r.lastError.message, at: r.lastError.at }
  return out
}

/** The gateway's state as the status page and the metrics read it. */
export function buildSnapshot(o: SnapshotSources): StatusSnapshot {
  const now = o.now ?? Date.now()
  const services: ServiceStatus[] = o.services.map((s) => {
    const known = o.registry?.services.find((r) => r.name === s.name)?.replicas ?? []
    return {
      name: s.name,
      title: s.title,
      subscribes: [...(o.subscriptions?.get(s.name) ?? [])],
      replicas: s.upstreams.map((url) => replicaStatus(url, known.find((r) => r.url === url.origin))),
      deliveries: { ok: 0, retried: 0, failed: 0, dropped: 0, ...o.deliveries?.get(s.name) },
    }
  })
  const gateway: StatusSnapshot['gateway'] = { uptimeS: Math.max(0, Math.round((now - o.startedAt) / 1000)), draining: o.draining, bus: busLabel(o.bus) }
  if (o.busStatus) {
    const b = o.busStatus
    gateway.busState = { state: b.state, since: new Date(b.since).toISOString(), buffered: b.buffered, dropped: b.dropped } satisfies BusView
  }
  return {
    time: new Date(now).toISOString(),
    gateway,
    services,
    events: {
      relayed: Object.fromEntries(o.relay?.relayed ?? []),
      notRelayed: o.relay?.notRelayed ?? 0,
      sseClients: o.sse?.clients() ?? 0,
      sseDropped: o.sse?.dropped ?? 0,
    },
  }
}
