import type { BreakerChange } from '../health/breaker.js'
import { Replica, type Outcome, type ReplicaOptions } from '../health/replica.js'

export type { Outcome } from '../health/replica.js'

/**
 * A service's replicas and the round robin over them.
 *
 * A replica gets a request when all of these hold:
 * - its health (from the registry's probes) is `up`, or still `unknown` before the first
 *   probe; never `down`, `draining` or `foreign`;
 * - it is not in its fast-failover pause: a connect failure reported by the proxy passes
 *   it over for `backoffMs` (1 s) at once, without waiting for the probes, until then or
 *   until a request or a probe succeeds;
 * - its circuit breaker allows it (closed, or the one trial of half-open).
 *
 * When none does, `pick` returns undefined at once and the proxy serves the stale copy or
 * the fallback.
 *
 * Outcomes: the proxy reports every request it sent with `report(url, outcome, latencyMs)`,
 * or `release(url)` when it ended with nothing to say about the replica. A keep-alive
 * socket that the replica had closed, failing with ECONNRESET before any byte of the
 * response (and retried), is the pool's business, not the replica's: it is released, never
 * reported as a failure.
 */
export class Upstreams {
  readonly replicas: Replica[]
  private next = 0
  /** Told of every breaker change of every replica (the registry logs them). */
  onBreakerChange: ((replica: Replica, change: BreakerChange) => void) | undefined

  constructor(
    readonly urls: URL[],
    options: Partial<ReplicaOptions> = {},
  ) {
    this.replicas = urls.map((u) => {
      const r = new Replica(u, options)
      r.breaker.onChange = (change) => this.onBreakerChange?.(r, change)
      return r
    })
  }

  get size() {
    return this.replicas.length
  }

  /** How many replicas could take a request now. */
  get usable() {
    let n = 0
    for (const r of this.replicas) if (r.usable) n++
    return n
  }

  /**
   * The next replica to send a request to, round robin over the usable ones, skipping
   * those in `exclude`; undefined when none is usable. A half-open breaker's one trial is
   * taken by this call: report the outcome of every request sent to what it returns.
   */
  pick(exclude?: ReadonlySet<URL>): URL | undefined {
    const list = this.replicas
    const n = list.length
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n
      const r = list[idx]
      if (exclude?.has(r.url)) continue
      if (r.take()) {
        this.next = (idx + 1) % n
        return r.url
      }
    }
    return undefined
  }

  /** The replica for a URL that `pick` gave (or one with the same origin). */
  replica(url: URL): Replica | undefined {
    for (const r of this.replicas) if (r.url === url) return r
    for (const r of this.replicas) if (r.url.origin === url.origin) return r
    return undefined
  }

  /**
   * Records what happened to one request sent to `url`:
   * - 'ok': a response head came (`latencyMs` from sending to the head);
   * - 'connect-fail': nothing reached the replica (refused, unreachable, connect timeout):
   *   it is passed over for a while at once, and it counts towards the breaker's
   *   consecutive connect failures;
   * - 'fail': it was reached and failed (no answer in time, connection lost, 5xx).
   * `error` is kept as the replica's last error. Returns true when the replica's
   * "answering" changed (first connect failure, first success after one), so the
   * caller can log that change once — the same meaning as markDown/markUp.
   */
  report(url: URL, outcome: Outcome, latencyMs: number, error?: string): boolean {
    return this.replica(url)?.report(outcome, latencyMs, error) ?? false
  }

  /**
   * A request sent to `url` ended without an outcome worth counting: the client went away
   * before the response head, or a reused keep-alive socket was reset before any byte of
   * the response (and the request is retried). Nothing is recorded; if it was a half-open
   * breaker's trial, the next request may be the trial (otherwise a lost trial is written
   * off after 10 s).
   */
  release(url: URL) {
    this.replica(url)?.release()
  }

  /**
   * Passes a replica over for a while after a connect failure (no breaker, no stats):
   * `report(url, 'connect-fail', …)` does this and more. True when it was answering until now.
   */
  markDown(url: URL): boolean {
    return this.replica(url)?.backOff() ?? false
  }

  /** Ends the pause of `markDown`. True when it was paused until now. */
  markUp(url: URL): boolean {
    return this.replica(url)?.clearBackoff() ?? false
  }
}
