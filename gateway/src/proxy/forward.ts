import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import { crossSiteRefusal, type Logger } from '@dx/kit'
import type { GatewayConfig } from '../config.js'
import { eventsOf, type HxEvent } from '../events/hx-trigger.js'
import { errorPage, fallbackFragment, pageHeaders, sendHtml, statusFor, writeError, type FailReason } from '../fallback.js'
import { declaredLength, drain, readBody, type BodyBudget } from './body.js'
import { responseHeaders, upstreamHeaders } from './headers.js'
import type { Route } from './route.js'

/** What every exchange of one proxy shares. */
export type ForwardShared = {
  cfg: GatewayConfig
  budget: BodyBudget
  log: Logger
  onEvents?: (service: string, events: HxEvent[]) => void
  onMalformed: (service: string, header: string, value: string) => void
}

type Phase = 'connect' | 'response' | 'body'

const EMPTY = Buffer.alloc(0)
const PAGE_HEADERS = Object.entries(pageHeaders).flat()

const isConnectError = (code?: string) =>
  code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT'

/**
 * One proxied HTTP exchange, holding all of its state: the client's request is read (body
 * whole, within the limit), sent to one replica with headers built fresh, and its response
 * streamed back. Every wait has a timer, and every way out releases the upstream socket.
 */
export class Forward {
  private readonly htmx: boolean
  private readonly isRead: boolean
  private body: Buffer = EMPTY
  private headers: string[] | undefined
  private target: URL | undefined
  private tried: Set<URL> | undefined
  private upstream: ClientRequest | undefined
  private upstreamRes: IncomingMessage | undefined
  private timer: NodeJS.Timeout | undefined
  private phase: Phase = 'connect'
  private timedOut: Phase | undefined
  private sentAt = 0
  /** The request may have reached the service: a socket to it was connected. */
  private reached = false
  private resetRetried = false
  private done = false

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: Route,
    private readonly shared: ForwardShared,
  ) {
    this.htmx = req.headers['hx-request'] === 'true'
    this.isRead = req.method === 'GET' || req.method === 'HEAD'
  }

  /** `expectContinue`: the client waits for `100 Continue` before it sends the body. */
  start(expectContinue: boolean) {
    const { req, res, shared } = this
    res.once('close', this.onClientClose)
    if (!this.isRead) {
      const refusal = this.crossSite()
      if (refusal) return this.refuse(403, refusal)
    }
    const declared = declaredLength(req)
    if (declared === 0) return this.send()
    const limit = shared.cfg.bodyLimitBytes
    if (declared !== 'chunked' && declared > limit) return this.refuseBody('too-large')
    // The gateway answers Expect itself: it never reaches the service.
    if (expectContinue) res.writeContinue()
    void readBody(req, limit, shared.budget).then((r) => {
      if (r.ok) {
        this.body = r.body
        this.send()
      } else if (r.why !== 'aborted') this.refuseBody(r.why)
    })
  }

  private crossSite() {
    const { req, shared } = this
    const h = req.headers
    const fwdHost = shared.cfg.trustForwarded ? (h['x-forwarded-host'] as string | undefined) : undefined
    return crossSiteRefusal({ method: req.method ?? 'POST', hosts: [h.host, fwdHost], origin: h.origin, secFetchSite: h['sec-fetch-site'] as string | undefined })
  }

  /** Sends the request to the next replica; called again for a retry. */
  private send() {
    if (this.done) return
    if (this.upstream) detach(this.upstream)
    const { req, route, shared } = this
    const target = route.upstreams.pick(this.tried)
    if (!target) return this.fail('no-upstream')
    this.target = target
    // Built once: a retry sends the same headers, never a second X-Forwarded-For entry.
    this.headers ??= upstreamHeaders(req, { trustForwarded: shared.cfg.trustForwarded, bodyLength: this.body.length })
    this.reached = false
    this.phase = 'connect'
    this.timedOut = undefined
    this.sentAt = performance.now()
    const https = target.protocol === 'https:'
    const upstream = (https ? httpsRequest : http.request)({
      host: target.hostname,
      port: target.port || (https ? 443 : 80),
      method: req.method,
      path: req.url,
      headers: this.headers as unknown as http.OutgoingHttpHeaders,
      // A retry after a reset keep-alive socket goes on a fresh connection.
      agent: this.resetRetried ? false : https ? route.agents.https : route.agents.http,
    })
    this.upstream = upstream
    upstream.on('socket', this.onSocket)
    upstream.on('response', this.onResponse)
    upstream.on('error', this.onUpstreamError)
    // The connect timer starts now, so time queued for a pooled socket counts too.
    this.arm(route.service.connectTimeoutMs)
    if (this.body.length) upstream.end(this.body)
    else upstream.end()
  }

  private onSocket = (socket: Socket) => {
    if (socket.connecting) socket.once('connect', this.onConnect)
    else this.onConnect()
  }

  private onConnect = () => {
    if (this.done || this.phase !== 'connect') return
    this.reached = true
    this.phase = 'response'
    const left = this.route.service.responseTimeoutMs - (performance.now() - this.sentAt)
    this.arm(Math.max(1, left))
  }

  private onResponse = (ures: IncomingMessage) => {
    if (this.done) return void ures.destroy()
    const { res, route, shared } = this
    this.upstreamRes = ures
    if (route.upstreams.markUp(this.target!)) shared.log.info(`${route.service.name}: ${this.target!.origin} is answering again`)
    const status = ures.statusCode ?? 502
    const h = responseHeaders(ures)
    if (h.triggers) this.relay(ures)
    if (status >= 500 && this.htmx && this.isRead) {
      ures.destroy()
      return this.fail('upstream-5xx')
    }
    const headers = h.headers
    headers.push('Vary', h.vary ? `${h.vary}, HX-Request` : 'HX-Request')
    if (status >= 500) headers.push('X-Dx-Fallback', 'upstream-5xx')
    // A service in any language may forget them: an HTML page through the edge gets them anyway.
    if (h.html && !h.csp) headers.push(...PAGE_HEADERS)
    res.writeHead(status, ures.statusMessage, headers)
    this.phase = 'body'
    this.arm(route.service.bodyIdleTimeoutMs)
    ures.on('data', this.onData)
    ures.on('end', this.onEnd)
    ures.on('close', this.onUpstreamClose)
  }

  private relay(ures: IncomingMessage) {
    const { shared, route } = this
    const events = eventsOf(ures.headers, (h, v) => shared.onMalformed(route.service.name, h, v))
    if (events.length) shared.onEvents?.(route.service.name, events)
  }

  // The body streams through by hand so that one idle timer covers both directions: an
  // upstream that stalls and a client that stops reading are cut off alike.
  private onData = (chunk: Buffer) => {
    this.timer?.refresh()
    if (!this.res.write(chunk)) {
      this.upstreamRes!.pause()
      this.res.once('drain', this.onDrain)
    }
  }

  private onDrain = () => {
    this.timer?.refresh()
    this.upstreamRes?.resume()
  }

  private onEnd = () => {
    this.settle()
    this.res.end()
  }

  private onUpstreamClose = () => {
    if (!this.upstreamRes!.complete && !this.done) this.abort()
  }

  private onUpstreamError = (err: NodeJS.ErrnoException) => {
    if (this.done) return
    this.clearTimer()
    if (this.upstreamRes) return this.abort()
    const { route, shared, target, req } = this
    const timedOut = this.timedOut
    const readWithoutBody = this.isRead && this.body.length === 0
    // The service closed an idle keep-alive socket just as it was reused: nothing was
    // processed, so a read goes again once, on a fresh connection, and nobody is marked down.
    if (!timedOut && err.code === 'ECONNRESET' && this.upstream?.reusedSocket && readWithoutBody && !this.resetRetried) {
      this.resetRetried = true
      return this.send()
    }
    if (timedOut === 'connect' || (!this.reached && isConnectError(err.code))) {
      if (!timedOut && route.upstreams.markDown(target!)) shared.log.warn(`${route.service.name}: ${target!.origin} ${err.code}; serving fallbacks until it answers`)
      // Nothing reached this replica: a read goes to the next one.
      ;(this.tried ??= new Set()).add(target!)
      if (readWithoutBody && this.tried.size < route.upstreams.size) return this.send()
      return this.fail(timedOut ? 'connect-timeout' : err.code === 'ECONNREFUSED' ? 'refused' : 'upstream-error')
    }
    if (timedOut === 'response') {
      shared.log.warn(`${route.service.name}: ${req.method} ${req.url} got no answer within ${route.service.responseTimeoutMs} ms from ${target!.origin}`)
      return this.fail('timeout')
    }
    shared.log.warn(`${route.service.name}: ${req.method} ${req.url} failed at ${target!.origin}: ${err.code ?? err.message}`)
    this.fail(this.reached ? 'connection-lost' : 'upstream-error')
  }

  private onTimeout = () => {
    this.timer = undefined
    this.timedOut = this.phase
    if (this.phase === 'body') {
      this.shared.log.warn(`${this.route.service.name}: ${this.req.method} ${this.req.url}: body stalled for ${this.route.service.bodyIdleTimeoutMs} ms; cut off`)
      return this.abort()
    }
    const upstream = this.upstream!
    const err = new Error(`${this.phase} timeout`)
    upstream.destroy(err)
    // Still queued for a pooled socket: Node reports the error only once it gets one, which
    // may be never. Go on now; the pool drops the request when a socket frees up.
    if (!upstream.socket) this.onUpstreamError(err)
  }

  /** The client went away: whatever is in flight upstream is dropped with it. */
  private onClientClose = () => {
    if (this.done || this.res.writableFinished) return
    this.abort()
  }

  private arm(ms: number) {
    clearTimeout(this.timer)
    this.timer = setTimeout(this.onTimeout, ms)
  }

  private clearTimer() {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private settle() {
    this.done = true
    this.clearTimer()
  }

  /** Ends both sides at once: a response already under way cannot become an error page. */
  private abort() {
    this.settle()
    this.upstreamRes?.destroy()
    this.upstream?.destroy()
    this.res.destroy()
  }

  private fail(reason: FailReason) {
    this.settle()
    if (this.upstream) {
      this.upstream.destroy()
      detach(this.upstream)
    }
    const { req, res, route } = this
    const { service } = route
    if (res.headersSent) return void res.destroy()
    const headers = { 'x-dx-fallback': reason, vary: 'HX-Request' }
    if (this.htmx && this.isRead) {
      return void sendHtml(res, 200, fallbackFragment(service.title, req.url ?? service.widget, reason), headers).catch(() => res.destroy())
    }
    const status = statusFor[reason]
    if (req.method === 'GET' && !this.htmx) {
      return void sendHtml(res, status, errorPage(service.title, reason, status), headers).catch(() => res.destroy())
    }
    this.refuse(status, writeError(service.title, reason), headers)
  }

  private refuse(status: number, message: string, headers: Record<string, string> = {}) {
    this.settle()
    const { req, res } = this
    if (res.headersSent) return void res.destroy()
    res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    res.end(message)
    drain(req, 4 * this.shared.cfg.bodyLimitBytes, 5000)
  }

  private refuseBody(why: 'too-large' | 'busy') {
    if (why === 'too-large') return this.refuse(413, `Request body too large: the limit is ${this.shared.cfg.bodyLimitBytes} bytes.`)
    this.shared.log.warn(`request bodies in flight reached ${this.shared.cfg.bodyBufferTotalBytes} bytes; refusing ${this.req.method} ${this.req.url} with 503`)
    this.refuse(503, 'The gateway is busy receiving other uploads; try again in a moment.', { 'retry-after': '1' })
  }
}

const httpsRequest = https.request

const ignore = () => {}

/** An abandoned attempt speaks no more to its exchange; its late errors are swallowed. */
function detach(upstream: ClientRequest) {
  upstream.removeAllListeners('socket')
  upstream.removeAllListeners('response')
  upstream.removeAllListeners('error')
  upstream.on('error', ignore)
}
