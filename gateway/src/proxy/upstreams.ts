/**
 * Round robin over a service's replicas. A replica that just refused a connection is
 * passed over for a short while, so one dead replica does not fail every other request;
 * when all are down we still try, so recovery is noticed at once.
 */
export class Upstreams {
  private next = 0
  private downUntil: number[]

  constructor(
    readonly urls: URL[],
    private backoffMs = 1000,
    private now: () => number = Date.now,
  ) {
    this.downUntil = urls.map(() => 0)
  }

  get size() {
    return this.urls.length
  }

  /** The next replica to try, skipping any in `exclude` when possible. */
  pick(exclude: ReadonlySet<URL> = new Set()): URL | undefined {
    const n = this.urls.length
    if (n === 0) return undefined
    const t = this.now()
    let fallback: URL | undefined
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n
      const url = this.urls[idx]
      if (exclude.has(url)) continue
      if (this.downUntil[idx] <= t) {
        this.next = (idx + 1) % n
        return url
      }
      fallback ??= url
    }
    if (fallback) this.next = (this.urls.indexOf(fallback) + 1) % n
    return fallback
  }

  /** Returns true when the replica was up until now, so the change is logged once. */
  markDown(url: URL): boolean {
    const idx = this.urls.indexOf(url)
    if (idx < 0) return false
    const wasUp = this.downUntil[idx] === 0
    this.downUntil[idx] = this.now() + this.backoffMs
    return wasUp
  }

  /** Returns true when the replica was down until now. */
  markUp(url: URL): boolean {
    const idx = this.urls.indexOf(url)
    if (idx < 0 || this.downUntil[idx] === 0) return false
    this.downUntil[idx] = 0
    return true
  }
}
