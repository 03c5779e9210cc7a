/**
 * A sliding window per connection: at most `max` messages in any `windowMs`. Only accepted
 * messages count, so a client that keeps hammering is let through again once it slows down.
 */
export class RateLimiter {
  private times: number[] = []
  constructor(
    private max = 20,
    private windowMs = 10_000,
    private now: () => number = Date.now,
  ) {}

  allow(): boolean {
    const t = this.now()
    while (this.times.length > 0 && this.times[0]! <= t - this.windowMs) this.times.shift()
    if (this.times.length >= this.max) return false
    this.times.push(t)
    return true
  }
}
