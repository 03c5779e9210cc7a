/** Something with a deadline (ms since the epoch) and what to do when it passes. */
export interface Expiring {
  deadline: number
  expire(): void
}

/**
 * Deadlines checked by one ticker, as NGINX checks its timers once per loop: moving a
 * deadline is a number write, so an exchange can re-arm on every chunk for free. They fire
 * up to one tick late, which is nothing next to timeouts of hundreds of milliseconds.
 */
export class Deadlines {
  private items = new Set<Expiring>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly tickMs = 25) {}

  watch(x: Expiring) {
    this.items.add(x)
    if (!this.timer) this.timer = setInterval(tick, this.tickMs, this).unref()
  }

  unwatch(x: Expiring) {
    this.items.delete(x)
  }

  get size() {
    return this.items.size
  }

  /** @internal */
  check() {
    const now = Date.now()
    for (const x of this.items) {
      if (x.deadline > now) continue
      this.items.delete(x)
      x.expire()
    }
    if (this.items.size === 0) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }
}

function tick(d: Deadlines) {
  d.check()
}
