/**
 * What the status page (`GET /_dx/status`, `/_dx/status.json`) shows and the scrape-time
 * metrics read: the gateway's view of every service and replica at one moment.
 */

/** The bus connection: `connected`, `connecting`, `reconnecting` or `closed`, since when, and publishes held or refused meanwhile. */
export type BusView = { state: string; since: string; buffered: number; dropped: number }
export type ReplicaStatus = { url: string; health: 'unknown' | 'up' | 'down' | 'draining' | 'foreign'; reason?: string; breaker: 'closed' | 'open' | 'half-open'; rps: number; p50Ms: number | null; p99Ms: number | null; lastError?: { message: string; at: string } }
export type ServiceStatus = { name: string; title: string; subscribes: string[]; replicas: ReplicaStatus[]; deliveries: { ok: number; retried: number; failed: number; dropped: number } }
export type StatusSnapshot = { time: string; gateway: { uptimeS: number; draining: boolean; bus: string; busState?: BusView }; services: ServiceStatus[]; events: { relayed: Record<string, number>; notRelayed: number; sseClients: number; sseDropped: number } }
