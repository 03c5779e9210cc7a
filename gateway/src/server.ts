import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { assets } from '@dx/ui'
import { bodyLimit } from 'hono/body-limit'
import { createBus, type Bus } from '@dx/bus'
import { crossSiteRefusal, drainServer, gatewayMark, logger, originList } from '@dx/kit'
import type { MiddlewareHandler } from 'hono'
import type { GatewayConfig } from './config.js'
import { createComposer } from './compose/index.js'
import type { HxEvent } from '@dx/kit'
import { health } from './health.js'
import { pageHeaders } from './fallback.js'
import { createProxy } from './proxy/proxy.js'
import { installFront } from './proxy/front.js'
import { createDelivery } from './events/delivery.js'
import { createRelay } from './events/relay.js'
import { createSseHub } from './events/sse.js'
import { createRegistry } from './health/registry.js'
import { createMetrics } from './metrics.js'
import { buildSnapshot, statusRoutes } from './status/index.js'

/** The gateway's own pages: security headers on HTML, and no writes from other sites. */
const secured: MiddlewareHandler = async (c, next) => {
  const refusal = crossSiteRefusal({
    method: c.req.method,
    hosts: [c.req.header('host')],
    origin: c.req.header('origin'),
    secFetchSite: c.req.header('sec-fetch-site'),
  })
  if (refusal) return c.text(refusal, 403)
  await next()
  c.header('x-content-type-options', 'nosniff')
  if (c.res.headers.get('content-type')?.startsWith('text/html')) {
    for (const [k, v] of Object.entries(pageHeaders)) c.header(k, v)
  }
}

export type Gateway = {
  server: Server
  state: { draining: boolean }
  close: (graceMs?: number) => Promise<void>
  bus: Bus
  relay: ReturnType<typeof createRelay>
  delivery: ReturnType<typeof createDelivery>
  sse: ReturnType<typeof createSseHub>
  registry: ReturnType<typeof createRegistry>
  metrics: ReturnType<typeof createMetrics>
}

/**
 * The edge server. Service prefixes go straight to the proxy on the raw req/res; only
 * the gateway's own routes pass through Hono.
 */
export function createGateway(cfg: GatewayConfig, opts: { bus?: Bus; onEvents?: (service: string, events: HxEvent[]) => void } = {}): Gateway {
  const log = logger('gateway')
  const state = { draining: false }
  const startedAt = Date.now()
  const metrics = createMetrics()
  // DX_BUS: memory by default, NATS for nats://… (throws BusConfigError for anything else).
  const bus = opts.bus ?? createBus({ url: process.env.DX_BUS, prefix: process.env.DX_BUS_PREFIX, log, name: 'dx-gateway' })
  const secret = cfg.eventSecret
  const relay = createRelay({ bus, log, services: cfg.services.map((s) => s.name), secret })
  const proxy = createProxy(cfg, {
    log,
    metrics,
    mark: secret ? gatewayMark(secret) : undefined,
    onEvents: (service, events, cause) => {
      relay.fromResponse(service, events, cause)
      opts.onEvents?.(service, events)
    },
  })
  const composer = createComposer(cfg, { routes: proxy.routes, lastGood: proxy.lastGood, log, mark: secret ? gatewayMark(secret) : undefined, onEvents: (service, events, cause) => relay.fromResponse(service, events, cause) })
  const delivery = createDelivery({ bus, log, routes: proxy.routes.values(), secret })
  // Probes every replica; one that comes up may subscribe to other events now.
  const registry = createRegistry({
    routes: proxy.routes.values(),
    intervalMs: cfg.healthIntervalMs,
    log,
    onUp: (service) => void delivery.refresh(service),
  })
  if (cfg.healthIntervalMs > 0) registry.start()
  // Standalone pages on their own origins read the stream too (CORS), and only they.
  const sse = createSseHub({ bus, log, allowedOrigins: originList(...cfg.services.map((s) => s.standaloneUrl)) })

  const snapshot = () =>
    buildSnapshot({
      startedAt,
      draining: state.draining,
      bus: bus.status().kind === 'memory' ? 'memory' : (process.env.DX_BUS ?? 'nats'),
      busStatus: bus.status(),
      services: cfg.services,
      registry: registry.snapshot(),
      subscriptions: delivery.subscriptions,
      deliveries: delivery.stats,
      relay: relay.stats,
      sse,
    })
  metrics.setSnapshot(snapshot)

  const app = new Hono()
  app.use(secured)
  app.route('/', statusRoutes(snapshot))
  app.get('/metrics', metrics.handler)
  app.use(bodyLimit({ maxSize: cfg.bodyLimitBytes, onError: (c) => c.text(`Request body too large: the limit is ${cfg.bodyLimitBytes} bytes.`, 413) }))
  app.route('/', relay.routes)
  app.route('/', health(state, bus))
  app.route('/', assets())
  app.notFound((c) => c.text(`Not found: ${c.req.path}`, 404))
  app.onError((err, c) => {
    log.error(`${c.req.method} ${c.req.path} failed`, err)
    return c.text('Internal error in the gateway', 500)
  })
  const hono = getRequestListener(app.fetch)

  const handle = (req: IncomingMessage, res: ServerResponse, expectContinue = false) => {
    // While draining, each answer closes its connection, so the client goes elsewhere.
    if (state.draining) res.shouldKeepAlive = false
    const url = req.url ?? ''
    // The event stream is long-lived and sets its own headers: it skips Hono.
    if (url === '/_dx/events' || url.startsWith('/_dx/events?')) {
      if (expectContinue) res.writeContinue()
      return sse.handle(req, res)
    }
    // The main page streams its widgets as they come: it skips Hono too.
    if ((url === '/' || url.startsWith('/?')) && (req.method === 'GET' || req.method === 'HEAD')) {
      if (expectContinue) res.writeContinue()
      res.setHeader('x-content-type-options', 'nosniff')
      return void composer.handle(req, res).catch((err) => {
        log.error('composing the main page failed', err)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal error in the gateway')
        else res.destroy()
      })
    }
    const route = proxy.match(req.url)
    if (route) return proxy.web(req, res, route, expectContinue)
    if (expectContinue) res.writeContinue()
    void hono(req, res)
  }
  const server = createServer(
    {
      // Bounds on the client's side of an exchange: a slow sender of headers or body is cut off.
      headersTimeout: cfg.clientHeaderTimeoutMs,
      requestTimeout: cfg.clientBodyTimeoutMs,
    },
    (req, res) => handle(req, res),
  )
  // Answered here rather than by Node, so a body over the limit is refused before it is sent.
  server.on('checkContinue', (req, res) => handle(req, res, true))
  server.on('upgrade', (req, socket, head) => {
    if (proxy.upgrade(server, req, socket, head)) return
    socket.on('error', () => {})
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  })
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
    else socket.destroy()
  })
  // A plain request for a service is read on the raw socket, before Node's server; anything
  // else reaches the handlers above with its connection (front.ts says why).
  const front = installFront(server, {
    serve(req, res) {
      const route = proxy.match(req.url)
      if (!route) return false
      proxy.web(req, res, route)
      return true
    },
    draining: () => state.draining,
    keepAliveMs: () => server.keepAliveTimeout,
    headerTimeoutMs: cfg.clientHeaderTimeoutMs,
  })

  /**
   * Graceful stop: /healthz turns 503, the event streams end, new connections are refused,
   * requests in flight finish (graceMs at most), then the upstream pools close.
   */
  const close = async (graceMs = 10_000) => {
    if (state.draining) return
    state.draining = true
    registry.stop()
    sse.close()
    delivery.close()
    front.drain()
    const finished = await drainServer(server, graceMs)
    if (!finished) {
      front.destroy()
      log.warn(`requests still open after ${graceMs / 1000} s were cut`)
    }
    await proxy.close()
    // A bus the gateway made is its own to close (a test's is the test's).
    if (!opts.bus) await bus.close()
  }
  return { server, state, close, bus, relay, delivery, sse, registry, metrics }
}
