import { Breaker, type BreakerOptions, type BreakerState } from './breaker.js'
import { ReplicaStats, type StatsOptions } from './stats.js'

/**
 * - unknown: not probed yet (gets traffic, so a gateway serves at once when it starts);
 * - up: `/healthz` answers 200 and the manifest names this service;
 * - down: two probes in a row failed;
 * - draining: `/healthz` answers 503: it finishes what it has, and gets nothing new;
 * - foreign: it answers, but it is not this distributex service (see `reason`).
 */
export type Health = 'unknown' | 'up' | 'down' | 'draining' | 'foreign'

/** What the proxy saw of one request to a replica. */
export type Outcome =
  /** A response came (its head); 5xx included unless the caller counts it as 'fail'. */
  | 'ok'
  /** Nothing reached the replica: refused, unreachable, connect timeout. */
  | 'connect-fail'
  /** It was reached but failed: no response in time, connection lost, a 5xx if you will. */
  | 'fail'

export type ReplicaOptions = {
  now: () => number
  /** After a connect failure the replica is passed over for this long (or until a probe or a request succeeds). */
  backoffMs: number
  breaker: Partial<BreakerOptions>
  stats: Partial<StatsOptions>
}

export type ReplicaSnapshot = {
  url: string
  health: Health
  /** Why it is in that state, for people ('' when up). */
  reason: string
  /** When it entered that state (ISO). */
  healthSince: string
  /** Would `pick` consider it now (health, fast-failover backoff and breaker)? */
  usable: boolean
  breaker: {
    state: BreakerState
    since: string
    /** While open: when the trial request will be let through. */
    retryAt?: string
    failuresInWindow: number
    requestsInWindow: number
  }
  /** Requests per second over the last 10 s. */
  rps: number
  /** Latency to the response head over the last 1,000 requests of the last minute; null without any. */
  p50Ms: number | null
  p99Ms: number | null
  requests: number
  lastError: { message: string; at: string } | null
}

const iso = (ms: number) => new Date(ms).toISOString()

/** One replica of a service: its health, its breaker, its request statistics, its last error. */
export class Replica {
  health: Health = 'unknown'
  reason = 'not probed yet'
  healthSince: number
  readonly breaker: Breaker
  readonly stats: ReplicaStats
  lastError: { message: string; at: number } | undefined
  /** Passed over until then after a connect failure (ms since the epoch); 0 when not. */
  backoffUntil = 0
  private readonly now: () => number
  private readonly backoffMs: number

  constructor(
    readonly url: URL,
    options: Partial<ReplicaOptions> = {},
  ) {
    this.now = options.now ?? Date.now
    this.backoffMs = options.backoffMs ?? 1000
    this.breaker = new Breaker({ now: this.now, ...options.breaker })
    this.stats = new ReplicaStats({ now: this.now, ...options.stats })
    this.healthSince = this.now()
  }

  /** Up, or not probed yet: the health check lets requests through. */
  get healthy(): boolean {
    return this.health === 'up' || this.health === 'unknown'
  }

  /**
   * Whether a request may go here now, without asking the breaker for its half-open
   * trial (use `take()` for the replica you are going to use).
   */
  get usable(): boolean {
    return this.healthy && this.backoffUntil <= this.now() && this.breaker.state !== 'open'
  }

  /** Whether a request may go here now; in half-open this takes the one trial. */
  take(): boolean {
    return this.healthy && (this.backoffUntil === 0 || this.backoffUntil <= this.now()) && this.breaker.allow()
  }

  /** Sets the health; returns true when it changed. */
  setHealth(health: Health, reason: string): boolean {
    this.reason = reason
    if (health === this.health) return false
    this.health = health
    this.healthSince = this.now()
    return true
  }

  error(message: string) {
    this.lastError = { message, at: this.now() }
  }

  /** Fast failover: passed over for a while. True when it was not already. */
  backOff(): boolean {
    const was = this.backoffUntil === 0
    this.backoffUntil = this.now() + this.backoffMs
    return was
  }

  /** Ends the fast-failover pause. True when there was one. */
  clearBackoff(): boolean {
    if (this.backoffUntil === 0) return false
    this.backoffUntil = 0
    return true
  }

  /**
   * Records one request's outcome: breaker, statistics, last error, fast failover.
   * Returns true when this changes whether it is answering: a success after a connect
   * failure, or a first connect failure (so the caller logs the change once).
   */
  report(outcome: Outcome, latencyMs: number, error?: string): boolean {
    if (outcome === 'ok') {
      this.breaker.success()
      this.stats.record(latencyMs, false)
      return this.clearBackoff()
    }
    if (outcome === 'connect-fail') {
      this.breaker.failure('connect')
      // How long connecting took says nothing about the service's latency.
      this.stats.record(-1, true)
      this.error(error ?? 'connect failed')
      return this.backOff()
    }
    this.breaker.failure('other')
    this.stats.record(latencyMs, true)
    this.error(error ?? 'request failed')
    return false
  }

  /** A request ended without an outcome: nothing is recorded, and a half-open trial is freed. */
  release() {
    this.breaker.release()
  }

  snapshot(): ReplicaSnapshot {
    const b = this.breaker
    const p = this.stats.percentiles()
    const retryAt = b.retryAt
    return {
      url: this.url.origin,
      health: this.health,
      reason: this.reason,
      healthSince: iso(this.healthSince),
      usable: this.usable,
      breaker: {
        state: b.state,
        since: iso(b.since),
        ...(retryAt === undefined ? {} : { retryAt: iso(retryAt) }),
        failuresInWindow: b.failuresInWindow,
        requestsInWindow: b.requestsInWindow,
      },
      rps: Math.round(this.stats.rps() * 10) / 10,
      p50Ms: p ? Math.round(p.p50 * 10) / 10 : null,
      p99Ms: p ? Math.round(p.p99 * 10) / 10 : null,
      requests: this.stats.total,
      lastError: this.lastError ? { message: this.lastError.message, at: iso(this.lastError.at) } : null,
    }
  }
}
