import type { Server } from 'node:http'
import { serve, type WebSocketServerLike } from '@hono/node-server'
import { Hono } from 'hono'
import { assets, layout } from '@dx/ui'
import type { HtmlEscapedString } from 'hono/utils/html'
import { exitOnCrash } from './crash.js'
import { envelopeError, SeenIds, verify, type Envelope } from './events.js'
import { bodyLimitBytes, bodyLimitMiddleware, crossSiteMiddleware, securityHeadersMiddleware } from './guards.js'
import { logger, type Logger } from './log.js'
import { allowedOrigins, gatewayUrl } from './origins.js'
import { originList } from './security.js'

export type ServiceOptions = {
  /** The service name; also its path prefix `/NAME`. */
  name: string
  /** Human title for headings. */
  title: string
  subscribes?: string[]
  /** Called once per event id for the events this service subscribes to. */
  onEvent?: (event: Envelope) => void | Promise<void>
}

export type Service = {
  name: string
  app: Hono
  log: Logger
  /** Runs on SIGTERM/SIGINT before the server closes (e.g. close sockets with 1012). */
  onShutdown: (fn: () => void | Promise<void>) => void
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
  const seen = new SeenIds()
  const shutdownHooks: Array<() => void | Promise<void>> = []
  let draining = false

  app.get('/healthz', (c) => (draining ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })))
  app.get('/_dx/manifest', (c) =>
    c.json({ name, prefix: `/${name}`, widget: `/${name}`, subscribes: opts.subscribes ?? [] }),
  )
  app.post('/_dx/events', async (c) => {
    const body = await c.req.text()
    const secret = process.env.DX_EVENT_SECRET
    if (secret && !verify(body, c.req.header('x-dx-signature'), secret)) {
      return c.json({ error: 'bad or missing X-Dx-Signature' }, 401)
    }
    let event: unknown
    try {
      event = JSON.parse(body)
    } catch {
      return c.json({ error: 'body is not JSON' }, 400)
    }
    const problem = envelopeError(event)
    if (problem) return c.json({ error: `bad event envelope: ${problem}` }, 400)
    const env = event as Envelope
    if (!seen.add(env.id)) return c.json({ status: 'duplicate' })
    if ((opts.subscribes ?? []).includes(env.name)) await opts.onEvent?.(env)
    return c.json({ status: 'ok' })
  })
  app.route('/', assets())

  const page: Service['page'] = (widget) =>
    layout({
      title: `distributex · ${title}`,
      subtitle: `${name} service, standalone`,
      nav: [{ label: 'Main app', href: gateway }],
      body: widget,
    })

  async function start(o: Parameters<Service['start']>[0] = {}) {
    exitOnCrash(log)
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
    const stop = async (signal: string) => {
      if (draining) return
      draining = true
      log.info(`${signal}: draining`)
      for (const fn of shutdownHooks) await Promise.resolve(fn()).catch((e) => log.error('shutdown hook failed', e))
      server.close(() => {
        log.info('stopped')
        process.exit(0)
      })
      server.closeIdleConnections()
      setTimeout(() => {
        server.closeAllConnections()
        process.exit(0)
      }, 3000).unref()
    }
    process.once('SIGTERM', () => void stop('SIGTERM'))
    process.once('SIGINT', () => void stop('SIGINT'))
    return server
  }

  return { name, app, log, onShutdown: (fn) => shutdownHooks.push(fn), page, start }
}
