/** 100 ms doubling to 5 s: the waits between the tries of one delivery. */
export function retryDelays(tries = 8, firstMs = 100, maxMs = 5000): number[] {
  return Array.from({ length: tries - 1 }, (_, i) => Math.min(maxMs, firstMs * 2 ** i))
}

export type DeliveryOptions<T> = {
  /** Delivers one item; a rejection is a failed try. */
  send: (item: T) => Promise<void>
  /** Items waiting at most; when full, the oldest waiting one is dropped. */
  max?: number
  /** Waits between tries; one try more than waits. */
  delays?: number[]
  /**
   * Whether a failure can never succeed however often it is tried (say, a 4xx answer):
   * then the item is given up at once instead of after its last try.
   */
  permanent?: (err: unknown) => boolean
  onDropped?: (item: T) => void
  onGaveUp?: (item: T, err: unknown) => void
  onDelivered?: (item: T) => void
  onRetry?: (item: T, err: unknown, delayMs: number) => void
}

/**
 * At-least-once delivery to one destination, in order: one item at a time, each tried
 * again with backoff until it succeeds or its tries run out. The queue is bounded, so a
 * destination that stays down costs a fixed amount of memory.
 */
export class DeliveryQueue<T> {
  private items: T[] = []
  private head = 0
  private running = false
  private closed = false
  private wake: (() => void) | undefined
  dropped = 0
  gaveUp = 0
  delivered = 0
  private readonly max: number
  private readonly delays: number[]

  constructor(private readonly o: DeliveryOptions<T>) {
    this.max = o.max ?? 10_000
    this.delays = o.delays ?? retryDelays()
  }

  get size() {
    return this.items.length - this.head
  }

  push(item: T) {
    if (this.closed) return
    if (this.size >= this.max) {
      // The item in flight stays: it is the one being retried, and order is kept.
      const victim = this.items.splice(this.head + (this.running ? 1 : 0), 1)[0]
      this.dropped++
      this.o.onDropped?.(victim)
    }
    this.items.push(item)
    if (!this.running) void this.run()
  }

  /** Stops after the try in flight; pending items are left undelivered. */
  close() {
    this.closed = true
    this.wake?.()
  }

  /** Resolves once nothing is waiting (for tests and for a graceful stop). */
  async drained(): Promise<void> {
    while (this.size > 0 && !this.closed) await new Promise((r) => setTimeout(r, 10))
  }

  private async run() {
    this.running = true
    while (this.size > 0 && !this.closed) {
      const item = this.items[this.head]
      await this.deliver(item)
      this.head++
      // Compact now and then rather than shift() every time.
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
    }
    this.running = false
  }

  private async deliver(item: T) {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.send(item)
        this.delivered++
        this.o.onDelivered?.(item)
        return
      } catch (err) {
        if (attempt >= this.delays.length || this.closed || this.o.permanent?.(err)) {
          this.gaveUp++
          this.o.onGaveUp?.(item, err)
          return
        }
        const delay = this.delays[attempt]
        this.o.onRetry?.(item, err, delay)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay)
          this.wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
        this.wake = undefined
      }
    }
  }
}
