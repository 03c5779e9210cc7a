/**
 * Counts over a sliding time window, kept in a ring of fixed time buckets: recording is
 * two array writes, with nothing allocated. The window is `buckets × bucketMs` long and
 * slides one bucket at a time (with 10 buckets of 1 s, "the last 10 s" is the current
 * second and the 9 before it).
 */
export class CountWindow {
  private readonly slot: Float64Array
  private readonly total: Uint32Array
  private readonly failed: Uint32Array

  constructor(
    readonly windowMs = 10_000,
    readonly buckets = 10,
  ) {
    this.slot = new Float64Array(buckets).fill(-1)
    this.total = new Uint32Array(buckets)
    this.failed = new Uint32Array(buckets)
  }

  private get bucketMs() {
    return this.windowMs / this.buckets
  }

  /** Records one request at `now` (ms), failed or not. */
  add(now: number, failed: boolean) {
    const n = Math.floor(now / this.bucketMs)
    const i = n % this.buckets
    if (this.slot[i] !== n) {
      this.slot[i] = n
      this.total[i] = 0
      this.failed[i] = 0
    }
    this.total[i]++
    if (failed) this.failed[i]++
  }

  /** Requests in the window ending at `now`. */
  requests(now: number): number {
    return this.sum(now, this.total)
  }

  /** Failed requests in the window ending at `now`. */
  failures(now: number): number {
    return this.sum(now, this.failed)
  }

  reset() {
    this.slot.fill(-1)
  }

  private sum(now: number, counts: Uint32Array) {
    const n = Math.floor(now / this.bucketMs)
    let s = 0
    for (let i = 0; i < this.buckets; i++) {
      const b = this.slot[i]
      if (b > n - this.buckets && b <= n) s += counts[i]
    }
    return s
  }
}
