import { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { ACTOR_COOKIE, crossSiteRefusal, type AppLogger } from '@dx/kit'
import type { GatewayConfig } from '../config.js'
import { eventsOf, type HxEvent } from '@dx/kit'
import { errorPage, fallbackFragment, pageHeaders, rawLookup, sendHtml, staleFragment, staleHeaders, statusFor, writeError, type FailReason, type LastGood, type LastGoodKey } from '../fallback.js'
import { drain, readBody, type BodyBudget } from './body.js'
import type { Deadlines, Expiring } from './deadlines.js'
import { readHead, responseHeaders, type RequestHead } from './headers.js'
import type { UpstreamHandler } from './pool.js'
import type { Route } from './route.js'
import { CONNECT_ERRORS, connectFailure, describe, isReset } from './upstream-errors.js'
import type { Cause } from '../events/relay.js'

/** One cookie's value from a Cookie header, undefined when absent or not decodable. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

/** What every exchange of one proxy shares. */
export type ForwardShared = {
  cfg: GatewayConfig
  budget: BodyBudget
  deadlines: Deadlines
  /** The last good copy of each widget fragment, served marked stale when its service fails. */
  lastGood: LastGood
  log: AppLogger
  /** The gateway's mark on forwarded requests (X-Dx-Via), when events are signed. */
  mark?: string
  onEvents?: (service: string, events: HxEvent[], cause: Cause) => void
  onMalformed: (service: string, header: string, value: string) => void
}

type Phase = 'connect' | 'response' | 'body'

/** A client's request as the forwarder reads it: Node's IncomingMessage, or the front's. */
export interface ClientRequest {
  readonly method?: string
  readonly url?: string
  readonly rawHeaders: string[]
  readonly socket: Socket
}

/** The part of Node's ServerResponse the forwarder uses; the front's answers have it too. */
export interface ClientResponse {
  statusCode: number
  readonly headersSent: boolean
  readonly writableFinished: boolean
  readonly destroyed: boolean
  writeHead(status: number, text: string, headers: string[]): unknown
  writeHead(status: number, headers: Record<string, string | number>): unknown
  write(chunk: Buffer): boolean
  end(data?: string): unknown
  destroy(): unknown
  /** Node's only: the front takes no request with `Expect`. */
  writeContinue?(): void
  on(event: 'close', fn: () => void): unknown
  once(event: 'drain', fn: () => void): unknown
}

const PAGE_HEADERS = Object.entries(pageHeaders).flat()

// Listeners and ticks are module functions, not closures made per request.
const kForward = Symbol('forward')
type Tagged = ClientResponse & { [kForward]?: Forward }
// The response's `close` comes exactly once however the exchange ends: it is counted there.
function onClientClose(this: Tagged) {
  const f = this[kForward]
  if (!f) return
  f.route.metrics.requestDone(f.req.method, this.headersSent ? this.statusCode : 499, (performance.now() - f.startedAt) / 1000)
  f.clientClosed()
}

/**
 * One proxied HTTP exchange, holding all of its state: the client's request is read (body
 * whole, within the limit), sent to one replica with headers built fresh, and its response
 * streamed back. Every wait has a timer, and every way out releases the upstream socket.
 *
 * Upstream requests go through the gateway's own keep-alive pools (pool.ts), the cheapest
 * HTTP client measured here.
 */
export class Forward implements Expiring {
  readonly head: RequestHead
  readonly htmx: boolean
  readonly isRead: boolean
  body: Buffer | null = null
  target: URL | undefined
  private tried: Set<URL> | undefined
  /** The current attempt; an abandoned one finds it is no longer this and goes quiet. */
  attempt: Attempt | undefined
  /** When the current phase's wait runs out (ms since the epoch); see Deadlines. */
  deadline = 0
  phase: Phase = 'connect'
  prevWatched: Expiring | null = null
  nextWatched: Expiring | null = null
  private timedOut: Phase | undefined
  private sentAt = 0
  private resetRetried = false
  readonly startedAt = performance.now()
  private logger: AppLogger | undefined
  /** Set while a cacheable widget fragment streams through: its key and its chunks so far. */
  private keep: { key: LastGoodKey; chunks: Buffer[]; size: number } | undefined
  done = false

  constructor(
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    readonly route: Route,
    readonly shared: ForwardShared,
  ) {
    this.head = readHead(req, shared.cfg.trustForwarded, shared.mark)
    this.htmx = this.head.htmx
    this.isRead = req.method === 'GET' || req.method === 'HEAD'
  }

  /** Lines about this exchange carry its request id; made only when something is logged. */
  get log(): AppLogger {
    return (this.logger ??= this.shared.log.child({ reqId: this.head.requestId }))
  }

  /** `expectContinue`: the client waits for `100 Continue` before it sends the body. */
  start(expectContinue: boolean) {
    const { req, res, shared } = this
    ;(res as Tagged)[kForward] = this
    res.on('close', onClientClose)
    if (!this.isRead) {
      const refusal = this.crossSite()
      if (refusal) return this.refuse(403, refusal)
    }
    const declared = this.head.body
    if (declared === 0) return this.send()
    const limit = shared.cfg.bodyLimitBytes
    if (declared !== 'chunked' && declared > limit) return this.refuseBody('too-large')
    // Only Node's server hands over requests with a body (see front.ts).
    if (!(req instanceof IncomingMessage)) return this.refuse(400, 'The request body could not be read.')
    // The gateway answers Expect itself: it never reaches the service.
    if (expectContinue) res.writeContinue?.()
    void readBody(req, limit, shared.budget).then((r) => {
      if (r.ok) {
        this.body = r.body
        this.send()
      } else if (r.why !== 'aborted') this.refuseBody(r.why)
    })
  }

  private crossSite() {
    const h = this.head
    return crossSiteRefusal({ method: this.req.method ?? 'POST', hosts: [h.host, h.forwardedHost], origin: h.origin, secFetchSite: h.secFetchSite })
  }

  /** Sends the request to the next replica; called again for a retry. */
  private send() {
    if (this.done) return
    const { req, route, shared } = this
    const target = route.upstreams.pick(this.tried)
    // None configured, or every one down, draining or behind an open breaker: at once.
    if (!target) return this.fail(route.upstreams.size === 0 ? 'no-upstream' : 'unavailable')
    this.target = target
    this.phase = 'connect'
    this.timedOut = undefined
    this.sentAt = Date.now()
    const attempt = new Attempt(this)
    this.attempt = attempt
    // The connect timer starts now, so time queued for a pooled socket counts too.
    this.arm(route.service.connectTimeoutMs)
    // The same headers on a retry: never a second X-Forwarded-For entry.
    route.pool(target).dispatch({ method: req.method!, path: req.url!, headers: this.head.upstream, body: this.body }, attempt)
  }

  /** A socket to the replica is connected and the request is being written. */
  connected() {
    this.phase = 'response'
    this.deadline = this.sentAt + this.route.service.responseTimeoutMs
  }

  /** The response head arrived: pass it on and start streaming. */
  respond(status: number, raw: string[], statusText: string): boolean {
    const { res, route, shared } = this
    // A 5xx counts against the replica's breaker; any other answer is a success.
    if (route.upstreams.report(this.target!, status >= 500 ? 'fail' : 'ok', Date.now() - this.sentAt, status >= 500 ? `answered ${status}` : undefined)) {
      this.log.info(`${route.service.name}: ${this.target!.origin} is answering again`)
    }
    const h = responseHeaders(raw)
    if (h.triggers) this.relay(h.headers)
    if (status >= 500 && this.htmx && this.isRead) {
      this.fail('upstream-5xx')
      return false
    }
    const headers = h.headers
    // A widget fragment as htmx asks for it: kept as the last good copy once it is whole.
    if (this.htmx && this.req.method === 'GET' && !this.body?.length && shared.lastGood.cacheable(status, headers)) {
      const key = shared.lastGood.keyOf(this.req.url!, h.vary, rawLookup(this.req.rawHeaders))
      if (key) this.keep = { key, chunks: [], size: 0 }
    }
    headers.push('Vary', h.vary ? `${h.vary}, HX-Request` : 'HX-Request')
    if (status >= 500) headers.push('X-Dx-Fallback', 'upstream-5xx')
    // A service in any language may forget them: an HTML page through the edge gets them anyway.
    if (h.html && !h.csp) headers.push(...PAGE_HEADERS)
    // Node sends the head with the first chunk of the body, in one write.
    res.writeHead(status, statusText, headers)
    this.phase = 'body'
    this.deadline = Date.now() + route.service.bodyIdleTimeoutMs
    return true
  }

  private relay(headers: string[]) {
    const { shared, route } = this
    const byName: Record<string, string[]> = {}
    for (let i = 0; i < headers.length; i += 2) {
      const key = headers[i].toLowerCase()
      if (key.startsWith('hx-trigger')) (byName[key] ??= []).push(headers[i + 1])
    }
    const events = eventsOf(byName, (h, v) => shared.onMalformed(route.service.name, h, v))
    if (events.length) shared.onEvents?.(route.service.name, events, { actor: cookieValue(this.head.cookie, ACTOR_COOKIE), client: this.head.client })
  }

  // One idle timer covers both directions of the body: an upstream that stalls and a
  // client that stops reading are cut off alike.
  write(chunk: Buffer, resume: () => void): boolean {
    this.deadline = Date.now() + this.route.service.bodyIdleTimeoutMs
    const keep = this.keep
    if (keep) {
      keep.size += chunk.length
      if (keep.size > this.shared.lastGood.maxEntryBytes) this.keep = undefined
      else keep.chunks.push(chunk)
    }
    if (this.res.write(chunk)) return true
    this.res.once('drain', () => {
      this.deadline = Date.now() + this.route.service.bodyIdleTimeoutMs
      resume()
    })
    return false
  }

  complete() {
    this.settle()
    this.res.end()
    // Only a body that arrived whole is a good copy: never after a cut or a stall.
    const keep = this.keep
    if (keep) this.shared.lastGood.put(keep.key, keep.chunks.length === 1 ? keep.chunks[0] : Buffer.concat(keep.chunks, keep.size))
  }

  /** The attempt failed before, or while, the response came. */
  failed(err: NodeJS.ErrnoException, reached: boolean, responded: boolean) {
    if (this.done) return
    this.clearTimer()
    if (responded) return this.abort()
    const { route, shared, target, req } = this
    const timedOut = this.timedOut
    const code = err.code
    const readWithoutBody = this.isRead && !this.body?.length
    // A keep-alive socket the service closed just as it was reused: a read goes again, once.
    // It says nothing about the replica, so it is not held against it.
    if (!timedOut && reached && isReset(code) && readWithoutBody && !this.resetRetried) {
      this.resetRetried = true
      route.upstreams.release(target!)
      return this.send()
    }
    const elapsed = Date.now() - this.sentAt
    if (timedOut === 'connect' || (!reached && CONNECT_ERRORS.has(code!))) {
      const why = timedOut ? `not connected within ${route.service.connectTimeoutMs} ms` : (code ?? 'connect failed')
      if (route.upstreams.report(target!, 'connect-fail', elapsed, why)) this.log.warn(`${route.service.name}: ${target!.origin}: ${why}; serving fallbacks until it answers`)
      // Nothing reached this replica: a read goes to the next one.
      ;(this.tried ??= new Set()).add(target!)
      if (readWithoutBody && this.tried.size < route.upstreams.size) return this.send()
      return this.fail(connectFailure(code, timedOut === 'connect'))
    }
    if (timedOut === 'response') {
      const why = `no answer within ${route.service.responseTimeoutMs} ms`
      route.upstreams.report(target!, 'fail', elapsed, why)
      this.log.warn(`${route.service.name}: ${req.method} ${req.url}: ${why} from ${target!.origin}`)
      return this.fail('timeout')
    }
    const why = describe(err)
    route.upstreams.report(target!, 'fail', elapsed, why)
    this.log.warn(`${route.service.name}: ${req.method} ${req.url} failed at ${target!.origin}: ${why}`)
    this.fail(reached ? 'connection-lost' : 'upstream-error')
  }

  /** Called by Deadlines when the current phase's wait ran out. */
  expire() {
    this.timedOut = this.phase
    if (this.phase === 'body') {
      this.log.warn(`${this.route.service.name}: ${this.req.method} ${this.req.url}: body stalled for ${this.route.service.bodyIdleTimeoutMs} ms; cut off`)
      return this.abort()
    }
    const attempt = this.attempt!
    // Still queued for a pooled socket, it cannot be aborted yet; it is dropped when its
    // turn comes. The exchange goes on now either way.
    attempt.cancel()
    this.failed(Object.assign(new Error(`${this.phase} timeout`), { code: 'DX_TIMEOUT' }), attempt.reached, false)
  }

  /** The client went away: whatever is in flight upstream is dropped with it. */
  clientClosed() {
    if (this.done || this.res.writableFinished) return
    // Before the answer's head, nothing is known about the replica: a trial slot is freed.
    if (this.target && this.phase !== 'body') this.route.upstreams.release(this.target)
    this.abort()
  }

  private arm(ms: number) {
    this.deadline = Date.now() + ms
    this.shared.deadlines.watch(this)
  }

  private clearTimer() {
    this.shared.deadlines.unwatch(this)
  }

  private settle() {
    this.done = true
    this.clearTimer()
  }

  /** Ends both sides at once: a response already under way cannot become an error page. */
  private abort() {
    this.settle()
    this.attempt?.cancel()
    this.res.destroy()
  }

  private fail(reason: FailReason) {
    this.settle()
    this.attempt?.cancel()
    const { req, res, route } = this
    const { service } = route
    if (res.headersSent) return void res.destroy()
    const headers = { 'x-dx-fallback': reason, vary: 'HX-Request' }
    if (this.htmx && this.isRead) {
      // A read gets the last good copy, marked stale, or the fallback when there is none.
      const url = req.url ?? service.widget
      const copy = req.method === 'GET' ? this.shared.lastGood.find(url, rawLookup(req.rawHeaders)) : undefined
      const page = copy ? staleFragment(service.title, url, copy, reason) : fallbackFragment(service.title, url, reason)
      route.metrics.fallback(copy ? 'stale' : 'fallback')
      return void sendHtml(res, 200, page, copy ? staleHeaders(copy) : headers).catch(() => res.destroy())
    }
    const status = statusFor[reason]
    if (req.method === 'GET' && !this.htmx) {
      route.metrics.fallback('error-page')
      return void sendHtml(res, status, errorPage(service.title, reason, status), headers).catch(() => res.destroy())
    }
    route.metrics.fallback('write-error')
    this.refuse(status, writeError(service.title, reason), headers)
  }

  private refuse(status: number, message: string, headers: Record<string, string> = {}) {
    this.settle()
    const { req, res } = this
    if (res.headersSent) return void res.destroy()
    res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    res.end(message)
    if (req instanceof IncomingMessage) drain(req, 4 * this.shared.cfg.bodyLimitBytes, 5000)
  }

  private refuseBody(why: 'too-large' | 'busy') {
    if (why === 'too-large') return this.refuse(413, `Request body too large: the limit is ${this.shared.cfg.bodyLimitBytes} bytes.`)
    this.log.warn(`request bodies in flight reached ${this.shared.cfg.bodyBufferTotalBytes} bytes; refusing ${this.req.method} ${this.req.url} with 503`)
    this.refuse(503, 'The gateway is busy receiving other uploads; try again in a moment.', { 'retry-after': '1' })
  }
}

/**
 * One try at one replica, as the pool's handler. It reports to its exchange only
 * while it is the exchange's current attempt, so a late event of an abandoned try is ignored.
 */
class Attempt implements UpstreamHandler {
  reached = false
  private responded = false
  private abortFn: (() => void) | undefined
  private cancelled = false

  constructor(private readonly fwd: Forward) {}

  private get current() {
    return this.fwd.attempt === this && !this.fwd.done
  }

  cancel() {
    this.cancelled = true
    this.abortFn?.()
  }

  onConnect(abort: () => void) {
    this.abortFn = abort
    if (this.cancelled || !this.current) return abort()
    this.reached = true
    this.fwd.connected()
  }

  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): boolean {
    if (!this.current) {
      this.abortFn?.()
      return false
    }
    this.responded = true
    this.resume = resume
    return this.fwd.respond(status, headers, statusText)
  }

  private resume: (() => void) | undefined

  onData(chunk: Buffer): boolean {
    if (!this.current) return false
    return this.fwd.write(chunk, this.resume!)
  }

  onComplete() {
    if (this.current) this.fwd.complete()
  }

  onError(err: NodeJS.ErrnoException) {
    if (this.current) this.fwd.failed(err, this.reached, this.responded)
  }
}
