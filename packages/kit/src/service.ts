import type { Server } from 'node:http'
import { serve, type WebSocketServerLike } from '@hono/node-server'
import { Hono } from 'hono'
import { assets, layout } from '@dx/ui'
import type { HtmlEscapedString } from 'hono/utils/html'
import { exitOnCrash } from './crash.js'
import type { Envelope } from './events.js'
import { bodyLimitBytes, bodyLimitMiddleware, crossSiteMiddleware, securityHeadersMiddleware } from './guards.js'
import { drainServer } from './drain.js'
import { logger, type Logger } from './log.js'
import { allowedOrigins, gatewayUrl } from './origins.js'
import { flushPublished, publishMiddleware, publishUrl } from './publish.js'
import { receiveEvents } from './receive.js'
import { originList } from './security.js'

/** How long requests in flight may take to finish when the service is stopped. */
const SHUTDOWN_GRACE_MS = 10_000

export type ServiceOptions = {
  /** The service name; also its path prefix `/NAME`. */
  name: string
  /** Human title for headings. */
  title: string
  /** Event names (`service:verb`) this service wants as `POST /_dx/events`; listed in its manifest. */
  subscribes?: string[]
  /**
   * Runs for each event this service subscribes to, until it has succeeded once per id. A
   * throw (or rejection) answers 500 with its message, so the sender delivers it again.
   */
  onEvent?: (event: Envelope) => void | Promise<void>
}

export type Service = {
  name: string
  app: Hono
  log: Logger
  /** Runs on SIGTERM/SIGINT before the server closes (e.g. close sockets with 1012). */
  onShutdown: (fn: () => void | Promise<void>) => void
  /** Adds fields to the `/healthz` JSON, read on each request (e.g. `{ bus: 'connected' }`); they never change its status code. */
  healthFields: (fn: () => Record<string, string | number | boolean>) => void
  /** The standalone page around a widget, same layout as the main app. */
  page: (widget: HtmlEscapedString | Promise<HtmlEscapedString>) => HtmlEscapedString | Promise<HtmlEscapedString>
  start: (opts?: {
    port?: number
    /** Defaults to env `HOST`, else 127.0.0.1: reachable from other machines only when asked for. */
    hostname?: string
    websocket?: { server: WebSocketServerLike }
    /** Called before the first connection is accepted, e.g. to handle `upgrade` itself. */
    onServer?: (server: Server) => void
  }) => Promise<Server>
}

/**
 * The parts of the protocol every service shares: health, manifest, events, assets,
 * lifecycle, and the defences every route gets (headers, body limit, cross-site writes).
 */
export function createService(opts: ServiceOptions): Service {
  const { name, title } = opts
  const log = logger(name)
  const app = new Hono()
  const gateway = gatewayUrl()
  // Registered before any route, so that they wrap every one, including those added later.
  // A standalone page opens the gateway's event stream: connect-src names its origin.
  app.use(securityHeadersMiddleware([...originList(gateway)]))
  app.use(crossSiteMiddleware(allowedOrigins(), log))
  app.use(bodyLimitMiddleware(bodyLimitBytes()))
  // The secret is read when it is used, so it is the same for receiving and publishing.
  const secret = () => process.env.DX_EVENT_SECRET || undefined
  // Events of writes made on this service's own page go to the gateway (protocol point 8).
  app.use(publishMiddleware({ source: name, log, secret }))
  const shutdownHooks: Array<() => void | Promise<void>> = []
  const healthHooks: Array<() => Record<string, string | number | boolean>> = []
  let draining = false

  app.get('/healthz', (c) => {
    const extra = Object.assign({}, ...healthHooks.map((fn) => fn()))
    return draining ? c.json({ ...extra, status: 'draining' }, 503) : c.json({ ...extra, status: 'ok' })
  })
  app.get('/_dx/manifest', (c) =>
    c.json({ name, prefix: `/${name}`, widget: `/${name}`, subscribes: opts.subscribes ?? [] }),
  )
  app.post('/_dx/events', receiveEvents({ subscribes: opts.subscribes ?? [], onEvent: opts.onEvent, log, secret }))
  app.route('/', assets())

  // `gateway` tells dx.js where the event stream is (<meta name="dx-gateway">), so a
  // standalone page reacts to the events of other windows too.
  const page: Service['page'] = (widget) =>
    layout({
      title: `distributex · ${title}`,
      subtitle: `${name} service, standalone`,
      nav: [{ label: 'Main app', href: gateway }],
      gateway,
      body: widget,
    })

  async function start(o: Parameters<Service['start']>[0] = {}) {
    exitOnCrash(log)
    if (secret()) log.info(`events: POST /_dx/events takes signed envelopes; events of writes made on this port are published to ${publishUrl()}`)
    else log.warn('DX_EVENT_SECRET is not set: events are refused (POST /_dx/events answers 503) and events of writes made on this port are not published')
    const port = o.port ?? 0
    const hostname = o.hostname ?? (process.env.HOST || '127.0.0.1')
    const server = await new Promise<Server>((resolve) => {
      const s = serve(
        { fetch: app.fetch, port, hostname, websocket: o.websocket },
        (info) => {
          log.info(`listening on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${info.port}`)
          resolve(s as Server)
        },
      ) as Server
      o.onServer?.(s)
    })
    // SIGTERM/SIGINT: /healthz turns 503 so the gateway sends nothing new, sockets get
    // their goodbye (chat: 1012), requests in flight finish (10 s at most), the events of
    // the last writes go out, and the process exits 0.
    const stop = async (signal: string) => {
      if (draining) return
      draining = true
      log.info(`${signal}: draining`)
      setTimeout(() => {
        log.warn('shutdown took more than 15 s; exiting now')
        process.exit(0)
      }, 15_000).unref()
      for (const fn of shutdownHooks) await Promise.resolve(fn()).catch((e) => log.error('shutdown hook failed', e))
      if (!(await drainServer(server, SHUTDOWN_GRACE_MS))) log.warn(`requests still open after ${SHUTDOWN_GRACE_MS / 1000} s were cut`)
      await flushPublished(2500, log)
      log.info('stopped')
      process.exit(0)
    }
    process.once('SIGTERM', () => void stop('SIGTERM'))
    process.once('SIGINT', () => void stop('SIGINT'))
    return server
  }

  return { name, app, log, onShutdown: (fn) => shutdownHooks.push(fn), healthFields: (fn) => void healthHooks.push(fn), page, start }
}
