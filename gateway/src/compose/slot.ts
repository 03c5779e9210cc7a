import { CONNECT_ERRORS, connectFailure, describe, isReset } from '../proxy/upstream-errors.js'
import type { FailReason } from '../fallback.js'
import type { UpstreamHandler } from '../proxy/pool.js'
import type { Route } from '../proxy/route.js'

/** What one widget fetch for the composed page came to. */
export type SlotFetch =
  | { kind: 'ok'; body: Buffer; headers: string[] }
  /** Not ready within its budget, or not something to place (not HTML, too big, a redirect): the browser loads it. */
  | { kind: 'late' }
  | { kind: 'failed'; reason: FailReason }

const late: SlotFetch = { kind: 'late' }

const utf8 = (latin1: string) => (/[^\x00-\x7f]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1)

/** How one try at one replica ended: its answer, whole or over the size cap, an error, or stopped. */
type Outcome =
  | { kind: 'answer'; status: number; headers: string[]; body: Buffer | undefined }
  | { kind: 'error'; err: NodeJS.ErrnoException }
  | { kind: 'stopped' }

const stopped: Outcome = { kind: 'stopped' }

function expire(t: Try) {
  t.stop()
}

/**
 * One try at one replica, as the pool's handler: it keeps the answer's headers and
 * body and nothing else, so a page holds no stream, abort signal or listener per widget
 * while the widgets are on their way. It settles once: on the answer, an error, the end of
 * the slot's budget or the page's client going away, whichever comes first.
 */
class Try implements UpstreamHandler {
  readonly outcome: Promise<Outcome>
  private settle!: (o: Outcome) => void
  private done = false
  private abortFn: (() => void) | undefined
  private readonly timer: NodeJS.Timeout
  private status = 0
  private headers: string[] = []
  private chunks: Buffer[] = []
  private size = 0

  constructor(
    private readonly max: number,
    ms: number,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve))
    this.timer = setTimeout(expire, ms, this)
  }

  /** Late for its budget, or the page is gone: settled now, and the exchange is dropped. */
  stop() {
    this.finish(stopped)
    this.abortFn?.()
  }

  private finish(o: Outcome) {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    this.settle(o)
  }

  onConnect(abort: () => void) {
    this.abortFn = abort
    // Stopped while queued for a pooled socket: dropped as its turn comes.
    if (this.done) abort()
  }

  onHeaders(status: number, raw: string[]): boolean {
    this.status = status
    // Lowercase names and UTF-8 values, in the order sent; the parser reads bytes as latin1.
    const headers = this.headers
    for (let i = 0; i < raw.length; i += 2) headers.push(raw[i].toLowerCase(), utf8(raw[i + 1]))
    return true
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length
    if (this.size > this.max) {
      // Too big to place in the page: the browser loads it.
      this.finish({ kind: 'answer', status: this.status, headers: this.headers, body: undefined })
      this.abortFn?.()
      return false
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete() {
    const { chunks, size } = this
    this.finish({ kind: 'answer', status: this.status, headers: this.headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) })
  }

  onError(err: NodeJS.ErrnoException) {
    this.finish({ kind: 'error', err })
  }
}

/**
 * Fetches a service's widget as htmx would, within the slot's budget (until `until`, ms since
 * the epoch): round robin over its usable replicas, the next one when a replica cannot be
 * reached, and every outcome reported to the replica's breaker as the proxy does. `cancel`
 * ends it early (the page's client went away). A wait never outlasts the budget.
 */
export class SlotFetcher {
  readonly result: Promise<SlotFetch>
  private current: Try | undefined
  private gone = false

  constructor(route: Route, headers: string[], until: number, maxBytes: number) {
    this.result = this.run(route, headers, until, maxBytes)
  }

  cancel() {
    this.gone = true
    this.current?.stop()
  }

  private async run(route: Route, headers: string[], until: number, maxBytes: number): Promise<SlotFetch> {
    const { upstreams, service } = route
    let tried: Set<URL> | undefined
    let lastFailure: FailReason | undefined
    let resetRetried = false
    for (;;) {
      const target = upstreams.pick(tried)
      if (!target) return { kind: 'failed', reason: lastFailure ?? (upstreams.size === 0 ? 'no-upstream' : 'unavailable') }
      const left = until - Date.now()
      if (left <= 0 || this.gone) {
        upstreams.release(target)
        return late
      }
      const t = (this.current = new Try(maxBytes, left))
      const sentAt = Date.now()
      route.pool(target).dispatch({ method: 'GET', path: service.widget, headers, body: null }, t)
      const o = await t.outcome
      this.current = undefined
      if (o.kind === 'stopped') {
        // Late says nothing about the replica: the browser's own request is judged by the proxy.
        upstreams.release(target)
        return late
      }
      if (o.kind === 'answer') {
        const { status } = o
        upstreams.report(target, status >= 500 ? 'fail' : 'ok', Date.now() - sentAt, status >= 500 ? `answered ${status}` : undefined)
        if (status >= 500) return { kind: 'failed', reason: 'upstream-5xx' }
        if (status !== 200 || o.body === undefined || !isUtf8Html(contentType(o.headers))) return late
        return { kind: 'ok', body: o.body, headers: o.headers }
      }
      const code = o.err.code
      // A kept-alive socket the service closed as it was reused: once more, not held against it.
      if (isReset(code) && !resetRetried) {
        resetRetried = true
        upstreams.release(target)
        continue
      }
      if (CONNECT_ERRORS.has(code!)) {
        upstreams.report(target, 'connect-fail', Date.now() - sentAt, code)
        ;(tried ??= new Set()).add(target)
        lastFailure = connectFailure(code)
        continue
      }
      upstreams.report(target, 'fail', Date.now() - sentAt, describe(o.err))
      return { kind: 'failed', reason: isReset(code) ? 'connection-lost' : 'upstream-error' }
    }
  }
}

function contentType(headers: string[]): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'content-type') return headers[i + 1]
  return undefined
}

function isUtf8Html(type: string | undefined): boolean {
  const v = type?.toLowerCase() ?? ''
  if (!v.trimStart().startsWith('text/html')) return false
  const cs = /;\s*charset\s*=\s*"?([^";\s]+)/.exec(v)
  return !cs || cs[1] === 'utf-8' || cs[1] === 'utf8' || cs[1] === 'us-ascii'
}
