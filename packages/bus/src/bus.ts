/** A handler gets the data and the concrete subject it was published on. */
export type Handler = (data: unknown, subject: string) => void | Promise<void>

/** `connecting`: never connected yet; `reconnecting`: lost and trying again; `closed`: for good. */
export type BusState = 'connecting' | 'connected' | 'reconnecting' | 'closed'

export type BusStatus = {
  kind: 'memory' | 'nats'
  state: BusState
  /** When it entered this state (ms since the epoch). */
  since: number
  /** The server it talks to, when connected (NATS). */
  server?: string
  /** Publishes held while not connected, sent on reconnect. */
  buffered: number
  /** Publishes refused because the hold was full. */
  dropped: number
}

export type SubscribeOptions = {
  /**
   * A queue group: of all subscriptions with the same group on a subject, across every
   * process on the bus, only one gets each message.
   */
  queue?: string
}

/**
 * Publish / subscribe on dotted subjects, NATS-style: `*` matches one token, a final `>`
 * matches one or more. The in-memory bus serves one process; the NATS bus spans
 * processes with the same shape, so code on top does not change. Data must survive JSON.
 */
export interface Bus {
  /** Resolves once the bus has taken the message (not once it is delivered); rejects when it cannot. */
  publish(subject: string, data: unknown): Promise<void>
  /** Returns a function that ends the subscription. */
  subscribe(subject: string, handler: Handler, opts?: SubscribeOptions): () => void
  status(): BusStatus
  /** Calls `fn` on each change of state; returns a function that stops it. */
  onStatus(fn: (s: BusStatus) => void): () => void
  close(): Promise<void>
}

/** What the bus logs with; any logger with these three will do. */
export interface BusLogger {
  info(msg: string, extra?: unknown): void
  warn(msg: string, extra?: unknown): void
  error(msg: string, extra?: unknown): void
}

/** A queue group name: one token, as NATS takes it. */
export function queueError(queue: string): string | null {
  return typeof queue === 'string' && TOKEN.test(queue) ? null : `queue group "${queue}": expected one token without spaces, ".", "*" or ">"`
}

/** Resolves true once the bus is connected, false after `timeoutMs` (it keeps trying). */
export function waitConnected(bus: Bus, timeoutMs: number): Promise<boolean> {
  if (bus.status().state === 'connected') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      off()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    const off = bus.onStatus((s) => {
      if (s.state === 'connected') done(true)
      else if (s.state === 'closed') done(false)
    })
  })
}

// As NATS: any printable character but the separator and the wildcards.
const TOKEN = /^[^\s.*>]+$/

/** Returns a message naming what is wrong with a subject, or null. Wildcards only when subscribing. */
export function subjectError(subject: string, wildcards = false): string | null {
  if (typeof subject !== 'string' || subject.length === 0) return 'subject: expected a non-empty string'
  const tokens = subject.split('.')
  for (const [i, t] of tokens.entries()) {
    if (wildcards && t === '*') continue
    if (wildcards && t === '>' && i === tokens.length - 1) continue
    if (!TOKEN.test(t)) return `subject "${subject}": token ${i + 1} "${t}" is not allowed`
  }
  return null
}

export function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i
    if (i >= s.length) return false
    if (p[i] !== '*' && p[i] !== s[i]) return false
  }
  return p.length === s.length
}
