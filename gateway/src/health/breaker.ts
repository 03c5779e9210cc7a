import { CountWindow } from './window.js'

export type BreakerState = 'closed' | 'open' | 'half-open'
export type FailureKind = 'connect' | 'other'

export type BreakerOptions = {
  /** The sliding window the failure ratio is taken over. */
  windowMs: number
  /** Fewer requests than this in the window never open the breaker on the ratio. */
  minRequests: number
  /** Failed / all requests in the window at or above which it opens. */
  failureRatio: number
  /** Connect failures in a row (nothing else in between) that open it. */
  consecutiveConnectFailures: number
  /** How long it stays open before one trial request is let through. */
  openMs: number
  /**
   * A trial that never reports (its caller forgot, or gave up without a word) is
   * written off after this long, and the next request becomes the trial.
   */
  trialTimeoutMs: number
  now: () => number
}

export const breakerDefaults: BreakerOptions = {
  windowMs: 10_000,
  minRequests: 10,
  failureRatio: 0.5,
  consecutiveConnectFailures: 5,
  openMs: 5000,
  trialTimeoutMs: 10_000,
  now: Date.now,
}

/** Why the breaker changed state, for a log line. */
export type BreakerChange = { from: BreakerState; to: BreakerState; why: string }

/**
 * A circuit breaker for one replica.
 *
 * - closed: every request goes through. It opens when at least `minRequests` requests in
 *   the last `windowMs` were seen and at least `failureRatio` of them failed, or after
 *   `consecutiveConnectFailures` connect failures in a row.
 * - open: nothing goes through for `openMs`.
 * - half-open: `allow()` says yes exactly once; the next outcome reported decides: a
 *   success closes it (with a fresh window), a failure opens it again for `openMs`.
 *
 * Outcomes reported while open are ignored (requests that started before it opened), and so
 * are those reported in half-open while no trial is out.
 */
export class Breaker {
  private s: BreakerState = 'closed'
  private sinceMs: number
  private openUntil = 0
  private trialAt = -1
  private connectStreak = 0
  private lastFailureAt = -Infinity
  private readonly window: CountWindow
  private readonly o: BreakerOptions
  /** Called on every change of state. */
  onChange: ((change: BreakerChange) => void) | undefined

  constructor(options: Partial<BreakerOptions> = {}) {
    this.o = { ...breakerDefaults, ...options }
    this.window = new CountWindow(this.o.windowMs, 10)
    this.sinceMs = this.o.now()
  }

  /** The current state; an open breaker whose time is up reads as half-open. */
  get state(): BreakerState {
    if (this.s === 'open' && this.o.now() >= this.openUntil) this.move('half-open', `open for ${this.o.openMs} ms; one trial request may go`)
    return this.s
  }

  /** When the current state began (ms since the epoch). */
  get since(): number {
    void this.state
    return this.sinceMs
  }

  /** While open: when the trial will be allowed (ms since the epoch); else undefined. */
  get retryAt(): number | undefined {
    return this.state === 'open' ? this.openUntil : undefined
  }

  /** Failed requests in the sliding window (what the ratio is taken over). */
  get failuresInWindow(): number {
    return this.window.failures(this.o.now())
  }

  get requestsInWindow(): number {
    return this.window.requests(this.o.now())
  }

  /** Connect failures in a row so far. */
  get connectFailures(): number {
    return this.connectStreak
  }

  /**
   * May a request go to this replica now? In half-open it says yes once, until that
   * trial's outcome is reported: call it only for the replica you are about to use.
   */
  allow(): boolean {
    if (this.s === 'closed') return true
    const state = this.state
    if (state === 'open') return false
    const now = this.o.now()
    if (this.trialAt >= 0 && now - this.trialAt < this.o.trialTimeoutMs) return false
    this.trialAt = now
    return true
  }

  /**
   * The request `allow()` let through ended with no outcome (the client went away, or a
   * reused keep-alive socket was reset and the request went elsewhere): in half-open, the
   * next request may be the trial.
   */
  release() {
    if (this.s === 'half-open') this.trialAt = -1
  }

  success() {
    if (this.s === 'closed') {
      const now = this.o.now()
      this.connectStreak = 0
      this.window.add(now, false)
      // Failures first, successes after: the count may only now reach the minimum.
      if (now - this.lastFailureAt < this.o.windowMs) this.checkRatio(now)
      return
    }
    if (this.state === 'half-open' && this.trialAt >= 0) {
      this.connectStreak = 0
      this.window.reset()
      this.move('closed', 'the trial request succeeded')
    }
  }

  failure(kind: FailureKind) {
    const now = this.o.now()
    if (this.s === 'closed') {
      this.connectStreak = kind === 'connect' ? this.connectStreak + 1 : 0
      this.window.add(now, true)
      this.lastFailureAt = now
      if (this.connectStreak >= this.o.consecutiveConnectFailures) {
        return this.open(`${this.connectStreak} connect failures in a row`)
      }
      return this.checkRatio(now)
    }
    if (this.state === 'half-open' && this.trialAt >= 0) this.open(`the trial request failed (${kind === 'connect' ? 'connect' : 'error'})`)
  }

  private checkRatio(now: number) {
    const total = this.window.requests(now)
    if (total < this.o.minRequests) return
    const failed = this.window.failures(now)
    if (failed >= this.o.failureRatio * total) this.open(`${failed} of ${total} requests in ${this.o.windowMs / 1000} s failed`)
  }

  private open(why: string) {
    this.openUntil = this.o.now() + this.o.openMs
    this.move('open', why)
  }

  private move(to: BreakerState, why: string) {
    const from = this.s
    this.s = to
    this.sinceMs = this.o.now()
    this.trialAt = -1
    this.onChange?.({ from, to, why })
  }
}
