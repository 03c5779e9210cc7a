import { CountWindow } from './window.js'

export type StatsOptions = {
  /** Requests per second are counted over this window. */
  rateWindowMs: number
  /** Latency percentiles are taken over the last this-many samples… */
  samples: number
  /** …that are younger than this. */
  sampleMaxAgeMs: number
  now: () => number
}

export const statsDefaults: StatsOptions = { rateWindowMs: 10_000, samples: 1000, sampleMaxAgeMs: 60_000, now: Date.now }

/**
 * Request statistics of one replica for the status page. Recording is a few writes into
 * typed arrays (no object, no string per request); percentiles are computed only when
 * someone reads them, by sorting a copy of the ring.
 */
export class ReplicaStats {
  private readonly rate: CountWindow
  private readonly latency: Float64Array
  private readonly at: Float64Array
  private next = 0
  private filled = 0
  private readonly o: StatsOptions
  /** Every request recorded since the start. */
  total = 0

  constructor(options: Partial<StatsOptions> = {}) {
    this.o = { ...statsDefaults, ...options }
    this.rate = new CountWindow(this.o.rateWindowMs, 10)
    this.latency = new Float64Array(this.o.samples)
    this.at = new Float64Array(this.o.samples)
  }

  /** One request; `latencyMs` is left out of the percentiles when negative or NaN. */
  record(latencyMs: number, failed = false) {
    const now = this.o.now()
    this.total++
    this.rate.add(now, failed)
    if (!(latencyMs >= 0)) return
    this.latency[this.next] = latencyMs
    this.at[this.next] = now
    this.next = (this.next + 1) % this.latency.length
    if (this.filled < this.latency.length) this.filled++
  }

  /** Requests per second over the rate window. */
  rps(): number {
    return this.rate.requests(this.o.now()) / (this.o.rateWindowMs / 1000)
  }

  /** Failed requests in the rate window. */
  failuresInWindow(): number {
    return this.rate.failures(this.o.now())
  }

  /** Latency percentiles (ms) over the recent samples, undefined when there are none. */
  percentiles(): { p50: number; p99: number; samples: number } | undefined {
    const oldest = this.o.now() - this.o.sampleMaxAgeMs
    const values = new Float64Array(this.filled)
    let n = 0
    for (let i = 0; i < this.filled; i++) if (this.at[i] >= oldest) values[n++] = this.latency[i]
    if (n === 0) return undefined
    const sorted = values.subarray(0, n).sort()
    return { p50: rank(sorted, 0.5), p99: rank(sorted, 0.99), samples: n }
  }
}

/** Nearest-rank percentile of sorted values. */
function rank(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}
