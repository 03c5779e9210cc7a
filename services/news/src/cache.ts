export type Clock = () => number

type Entry<T> = { value: T; at: number }

export type CacheOptions = {
  /** How long a value is fresh; after that it is still served, and refreshed behind. */
  ttlMs: number
  /** Oldest entries go first past this many. */
  max?: number
  now?: Clock
  /** A background refresh failed; the stale value stays. */
  onRefreshError?: (key: string, err: unknown) => void
}

/**
 * A stale-while-revalidate cache. A fresh value is returned as is; a stale one is returned
 * at once while one refresh per key runs behind; a missing one is loaded, and callers
 * asking for the same key meanwhile share that load. A failed load caches nothing.
 */
export class SwrCache<T> {
  private entries = new Map<string, Entry<T>>()
  private loading = new Map<string, Promise<T>>()
  private now: Clock

  constructor(private opts: CacheOptions) {
    this.now = opts.now ?? Date.now
  }

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key)
    if (!hit) return this.load(key, load)
    if (this.now() - hit.at >= this.opts.ttlMs && !this.loading.has(key)) {
      this.load(key, load).catch((err) => this.opts.onRefreshError?.(key, err))
    }
    return Promise.resolve(hit.value)
  }

  /** The cached value, fresh or stale, without loading. */
  peek(key: string): T | undefined {
    return this.entries.get(key)?.value
  }

  /** Whether a load (first or refresh) for the key is under way. */
  isLoading(key: string): boolean {
    return this.loading.has(key)
  }

  clear() {
    this.entries.clear()
  }

  private load(key: string, load: () => Promise<T>): Promise<T> {
    const running = this.loading.get(key)
    if (running) return running
    const p = Promise.resolve()
      .then(load)
      .then((value) => {
        this.set(key, value)
        return value
      })
      .finally(() => this.loading.delete(key))
    this.loading.set(key, p)
    return p
  }

  private set(key: string, value: T) {
    this.entries.delete(key) // re-insert: Map order is the eviction order
    this.entries.set(key, { value, at: this.now() })
    const max = this.opts.max ?? Infinity
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value as string)
  }
}
