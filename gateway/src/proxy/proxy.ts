import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { Transform } from 'node:stream'
import { createProxyServer } from 'http-proxy-3'
import type { Logger } from '@dx/kit'
import type { GatewayConfig, ServiceConfig } from '../config.js'
import { eventsOf, type HxEvent } from '../events/hx-trigger.js'
import { errorPage, fallbackFragment, sendHtml, statusFor, writeError, type FailReason } from '../fallback.js'
import { Upstreams } from './upstreams.js'

export type Route = { service: ServiceConfig; upstreams: Upstreams }

export type ProxyHooks = {
  log: Logger
  /** Events from an upstream response's HX-Trigger* headers, with the service they came from. */
  onEvents?: (service: string, events: HxEvent[]) => void
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, never forwarded.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']

type Attempt = {
  route: Route
  target: URL
  tried: Set<URL>
  htmx: boolean
  isRead: boolean
  timedOut?: boolean
  timers: NodeJS.Timeout[]
  done?: boolean
}

const isConnectError = (code?: string) =>
  code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET'

/**
 * The NGINX-style proxy: `/NAME/...` goes unchanged to one of NAME's upstreams, on Node's
 * raw req/res (no fetch objects on the hot path). Every failure ends in an answer the
 * page can live with, never in an unhandled error.
 */
export function createProxy(cfg: GatewayConfig, hooks: ProxyHooks) {
  const { log } = hooks
  const routes = new Map<string, Route>(
    cfg.services.map((s) => [s.prefix, { service: s, upstreams: new Upstreams(s.upstreams) }]),
  )
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
  }
  const attempts = new WeakMap<IncomingMessage, Attempt>()
  const malformedSeen = new Set<string>()

  const proxy = createProxyServer({ xfwd: true, selfHandleResponse: true })
  // Without a listener, http-proxy kills the process on an error; each call also has its own callback.
  proxy.on('error', (err: Error) => log.warn('proxy error', err))

  proxy.on('proxyReq', (proxyReq, req, _res, _opts, socket) => {
    const a = attempts.get(req)
    if (!a) return
    const arm = (ms: number) => {
      const t = setTimeout(() => {
        a.timedOut = true
        proxyReq.destroy(new Error(`no response within ${ms} ms`))
      }, ms)
      a.timers.push(t)
      return t
    }
    const sock = (socket ?? proxyReq.socket) as import('node:net').Socket | undefined
    if (sock?.connecting) {
      const t = arm(a.route.service.connectTimeoutMs)
      sock.once('connect', () => clearTimeout(t))
    }
    arm(a.route.service.responseTimeoutMs)
  })

  proxy.on('proxyRes', (proxyRes, req, res) => {
    const a = attempts.get(req)
    if (!a || a.done) return proxyRes.resume()
    finish(a)
    if (a.route.upstreams.markUp(a.target)) log.info(`${a.route.service.name}: ${a.target.origin} is answering again`)
    const status = proxyRes.statusCode ?? 502
    const events = eventsOf(proxyRes.headers, (h, v) => {
      if (malformedSeen.size < 1000 && !malformedSeen.has(v)) {
        malformedSeen.add(v)
        log.warn(`${a.route.service.name} sent a malformed ${h} header; passed through unchanged`, v)
      }
    })
    if (events.length) hooks.onEvents?.(a.route.service.name, events)

    if (status >= 500 && a.htmx && a.isRead) {
      proxyRes.resume()
      return fail(req, res as ServerResponse, a, 'upstream-5xx')
    }
    const headers: http.OutgoingHttpHeaders = {}
    for (const [k, v] of Object.entries(proxyRes.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) headers[k] = v
    headers.vary = headers.vary ? `${headers.vary}, HX-Request` : 'HX-Request'
    if (status >= 500) headers['x-dx-fallback'] = 'upstream-5xx'
    proxyRes.on('error', () => res.destroy())
    res.writeHead(status, proxyRes.statusMessage, headers)
    proxyRes.pipe(res)
  })

  function finish(a: Attempt) {
    for (const t of a.timers) clearTimeout(t)
    a.timers = []
  }

  function fail(req: IncomingMessage, res: ServerResponse, a: Pick<Attempt, 'route' | 'htmx' | 'isRead' | 'done'>, reason: FailReason) {
    a.done = true
    const { service } = a.route
    if (res.headersSent) return void res.destroy()
    const base = { 'x-dx-fallback': reason, vary: 'HX-Request' }
    if (a.htmx && a.isRead) {
      return void sendHtml(res, 200, fallbackFragment(service.title, req.url ?? service.widget, reason), base).catch(() => res.destroy())
    }
    const status = statusFor[reason]
    if (a.isRead && req.method === 'GET' && !a.htmx) {
      return void sendHtml(res, status, errorPage(service.title, reason, status), base).catch(() => res.destroy())
    }
    res.writeHead(status, { ...base, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    res.end(writeError(service.title, reason))
  }

  /** The route for a request path, or undefined when it is not a service's. */
  function match(url: string | undefined): Route | undefined {
    if (!url) return undefined
    const end = url.indexOf('/', 1)
    const q = url.indexOf('?')
    const cut = end === -1 ? (q === -1 ? url.length : q) : q !== -1 && q < end ? q : end
    return routes.get(url.slice(0, cut))
  }

  /** A path a browser may not send to a service: protocol endpoints and dot-segments. */
  function forbidden(url: string): string | undefined {
    const path = url.split('?')[0]
    if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(path) || /%2f|%5c|\\/i.test(path)) return 'path segments "." and ".." are not allowed'
    if (/\/_dx(\/|$)/.test(path)) return 'protocol paths under /_dx/ are not proxied'
    return undefined
  }

  function web(req: IncomingMessage, res: ServerResponse, route: Route, tried = new Set<URL>()) {
    const method = req.method ?? 'GET'
    const attempt0 = { route, htmx: req.headers['hx-request'] === 'true', isRead: method === 'GET' || method === 'HEAD' }
    if (tried.size === 0) {
      const bad = forbidden(req.url ?? '/')
      if (bad) {
        res.writeHead(bad.includes('_dx') ? 404 : 400, { 'content-type': 'text/plain; charset=utf-8' })
        return void res.end(bad)
      }
      const length = Number(req.headers['content-length'] ?? 0)
      if (length > cfg.bodyLimitBytes) return tooLarge(req, res)
    }
    const target = route.upstreams.pick(tried)
    if (!target) return void fail(req, res, attempt0, 'no-upstream')
    // Forwarded headers are copied from req.headers; the framing header stays, Node sets it anew.
    for (const h of HOP_BY_HOP) if (h !== 'transfer-encoding') delete req.headers[h]
    tried.add(target)
    const a: Attempt = { ...attempt0, target, tried, timers: [] }
    attempts.set(req, a)
    res.once('close', () => finish(a))

    const hasBody = !a.isRead && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)
    const buffer = hasBody ? limitBody(req, res, a) : undefined
    proxy.web(req, res, { target, agent: agents[target.protocol as 'http:'], buffer }, (err: NodeJS.ErrnoException) => {
      finish(a)
      if (a.done) return
      const code = err.code
      if (a.timedOut) {
        log.warn(`${route.service.name}: ${req.method} ${req.url} timed out at ${target.origin}`)
        return void fail(req, res, a, 'timeout')
      }
      if (isConnectError(code)) {
        if (route.upstreams.markDown(target)) log.warn(`${route.service.name}: ${target.origin} ${code}; serving fallbacks until it answers`)
        // A read has no body, so it can go to the next replica; a write might have been received.
        if (a.isRead && tried.size < route.upstreams.size && !res.headersSent) return web(req, res, route, tried)
        return void fail(req, res, a, code === 'ECONNREFUSED' ? 'refused' : 'upstream-error')
      }
      log.warn(`${route.service.name}: ${req.method} ${req.url} failed`, err)
      fail(req, res, a, 'upstream-error')
    })
  }

  function tooLarge(req: IncomingMessage, res: ServerResponse) {
    const msg = `Request body too large: the limit is ${cfg.bodyLimitBytes} bytes.`
    if (!res.headersSent) {
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
      res.end(msg)
    }
    // Read (and drop) what the client is still sending so it sees the 413 instead of a reset.
    req.resume()
  }

  /** Streams the body through, counting; past the limit, the upstream request is dropped and 413 sent. */
  function limitBody(req: IncomingMessage, res: ServerResponse, a: Attempt) {
    let seen = 0
    const limiter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length
        if (seen > cfg.bodyLimitBytes) {
          a.done = true
          finish(a)
          tooLarge(req, res)
          return cb(new Error('body limit'))
        }
        cb(null, chunk)
      },
    })
    limiter.on('error', () => {})
    req.pipe(limiter)
    return limiter
  }

  // A WebSocket handshake has the same bounded wait as an HTTP response; once upgraded it lives on.
  const wsRoutes = new WeakMap<IncomingMessage, Route>()
  const upgraded = new WeakSet<IncomingMessage>()
  proxy.on('proxyReqWs', (proxyReq, req) => {
    const route = wsRoutes.get(req)
    if (!route) return
    const ms = route.service.connectTimeoutMs + route.service.responseTimeoutMs
    const t = setTimeout(() => proxyReq.destroy(new Error(`no WebSocket handshake within ${ms} ms`)), ms)
    proxyReq.once('upgrade', () => {
      clearTimeout(t)
      upgraded.add(req)
    })
    proxyReq.once('close', () => clearTimeout(t))
  })

  function ws(req: IncomingMessage, socket: Duplex, head: Buffer, route: Route) {
    socket.on('error', () => socket.destroy())
    const bad = forbidden(req.url ?? '/')
    const target = bad ? undefined : route.upstreams.pick()
    if (!target) {
      // A refused handshake reaches the browser as close code 1006, on which htmx-ext-ws reconnects.
      socket.end(`HTTP/1.1 ${bad ? '400 Bad Request' : '503 Service Unavailable'}\r\nconnection: close\r\nx-dx-fallback: no-upstream\r\n\r\n`)
      return
    }
    wsRoutes.set(req, route)
    proxy.ws(req, socket, head, { target }, (err: NodeJS.ErrnoException) => {
      if (!upgraded.has(req)) {
        if (isConnectError(err.code) && route.upstreams.markDown(target)) log.warn(`${route.service.name}: ${target.origin} ${err.code} (WebSocket)`)
        if (socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\nx-dx-fallback: refused\r\n\r\n')
      }
      socket.destroy()
    })
  }

  function close() {
    proxy.close()
    agents['http:'].destroy()
    agents['https:'].destroy()
  }

  return { match, web, ws, close, routes }
}
export type Proxy = ReturnType<typeof createProxy>
