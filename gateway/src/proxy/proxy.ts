import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { AppLogger } from '@dx/kit'
import type { GatewayConfig } from '../config.js'
import type { HxEvent } from '@dx/kit'
import type { Cause } from '../events/relay.js'
import type { Metrics } from '../metrics.js'
import { BodyBudget } from './body.js'
import { Deadlines } from './deadlines.js'
import { LastGood } from '../fallback.js'
import { Forward, type ClientRequest, type ClientResponse, type ForwardShared } from './forward.js'
import { serveAsPlainHttp } from './plain-upgrade.js'
import { forbidden, routeTable, type Route } from './route.js'
import { isWebSocket, webSockets } from './websocket.js'

export type { Route } from './route.js'

export type ProxyHooks = {
  log: AppLogger
  metrics?: Metrics
  /** The gateway's mark on forwarded requests, when events are signed. */
  mark?: string
  /** Events from an upstream response's HX-Trigger* headers, with the service they came from. */
  onEvents?: (service: string, events: HxEvent[], cause: Cause) => void
}

/**
 * The NGINX-style proxy: `/NAME/...` goes unchanged to one of NAME's replicas. HTTP goes
 * through the gateway's own forwarder on node:http, WebSocket upgrades through
 * http-proxy-3. Every failure ends in an answer the page can live with.
 */
export function createProxy(cfg: GatewayConfig, hooks: ProxyHooks) {
  const { log } = hooks
  const { routes, match } = routeTable(cfg.services, hooks.metrics)
  const malformedSeen = new Set<string>()
  const shared: ForwardShared = {
    cfg,
    budget: new BodyBudget(cfg.bodyBufferTotalBytes),
    deadlines: new Deadlines(),
    lastGood: new LastGood(),
    log,
    mark: hooks.mark,
    onEvents: hooks.onEvents,
    onMalformed(service, header, value) {
      // Logged once per distinct value: a service sending the same bad header must not flood the log.
      if (malformedSeen.size >= 1000 || malformedSeen.has(value)) return
      malformedSeen.add(value)
      log.warn(`${service} sent a malformed ${header} header; passed through unchanged`, value)
    },
  }
  const sockets = webSockets({ log, trustForwarded: cfg.trustForwarded })

  function web(req: ClientRequest, res: ClientResponse, route: Route, expectContinue = false) {
    const bad = forbidden(req.url ?? '/')
    if (bad) {
      res.writeHead(bad.status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
      return void res.end(bad.message)
    }
    new Forward(req, res, route, shared).start(expectContinue)
  }

  /** An `upgrade` event: a WebSocket for a service, or plain HTTP served as such. */
  function upgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (!isWebSocket(req)) {
      serveAsPlainHttp(server, req, socket, head)
      return true
    }
    const route = match(req.url)
    if (!route) return false
    sockets.handle(req, socket, head, route)
    return true
  }

  /** After the server drained: upgraded sockets end, pools close once their requests are done. */
  async function close() {
    sockets.close()
    await Promise.all([...routes.values()].map((r) => r.close()))
  }

  return { match, web, upgrade, close, routes, lastGood: shared.lastGood }
}
export type Proxy = ReturnType<typeof createProxy>
