import { createServer, type Server } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { assets } from '@dx/ui'
import { logger } from '@dx/kit'
import type { GatewayConfig } from './config.js'
import { compose } from './compose.js'
import type { HxEvent } from './events/hx-trigger.js'
import { health } from './health.js'
import { createProxy } from './proxy/proxy.js'

export type Gateway = {
  server: Server
  state: { draining: boolean }
  close: () => Promise<void>
}

/**
 * The edge server. Service prefixes go straight to the proxy on the raw req/res; only
 * the gateway's own routes pass through Hono.
 */
export function createGateway(cfg: GatewayConfig, opts: { onEvents?: (service: string, events: HxEvent[]) => void } = {}): Gateway {
  const log = logger('gateway')
  const state = { draining: false }
  const proxy = createProxy(cfg, { log, onEvents: opts.onEvents })

  const app = new Hono()
  app.route('/', health(state))
  app.route('/', assets())
  app.route('/', compose(cfg))
  app.notFound((c) => c.text(`Not found: ${c.req.path}`, 404))
  app.onError((err, c) => {
    log.error(`${c.req.method} ${c.req.path} failed`, err)
    return c.text('Internal error in the gateway', 500)
  })
  const hono = getRequestListener(app.fetch)

  const server = createServer((req, res) => {
    const route = proxy.match(req.url)
    if (route) proxy.web(req, res, route)
    else void hono(req, res)
  })
  server.on('upgrade', (req, socket, head) => {
    const route = proxy.match(req.url)
    if (route) return proxy.ws(req, socket, head, route)
    socket.on('error', () => {})
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n')
  })
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
    else socket.destroy()
  })

  const close = () =>
    new Promise<void>((resolve) => {
      state.draining = true
      server.close(() => resolve())
      server.closeIdleConnections()
      proxy.close()
      setTimeout(() => {
        server.closeAllConnections()
        resolve()
      }, 2000).unref()
    })
  return { server, state, close }
}
