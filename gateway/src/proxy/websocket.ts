import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { createProxyServer } from 'http-proxy-3'
import { originAllowed, type Logger } from '@dx/kit'
import { clientAddress, connectionTokens, FORWARDED } from './headers.js'
import { forbidden, type Route } from './route.js'

/** Only a real WebSocket handshake is an upgrade; `Upgrade: h2c` and the like are plain HTTP. */
export const isWebSocket = (req: IncomingMessage) => req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket'

const reject = (socket: Duplex, status: string, extra = '') => {
  if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n${extra}\r\n`)
  else socket.destroy()
}

/**
 * WebSocket upgrades, through http-proxy-3. The handshake is cleaned like any request
 * (forwarding claims, Connection-named headers, the gateway's own X-Dx-*), refused when it
 * comes from another site's page, and bounded in time; once upgraded it lives on.
 */
export function webSockets(o: { log: Logger; trustForwarded: boolean }) {
  const { log } = o
  const proxy = createProxyServer({ xfwd: false, ws: true })
  // Without a listener, http-proxy kills the process on an error; each call also has its own callback.
  proxy.on('error', (err: Error) => log.warn('websocket proxy error', err.message))

  const pending = new WeakMap<IncomingMessage, Route>()
  // Open client sockets, ended on shutdown: the page's htmx-ext-ws reconnects (1006), by
  // then to another gateway or to this one restarted.
  const open = new Set<Duplex>()
  const upgraded = new WeakSet<IncomingMessage>()
  proxy.on('proxyReqWs', (proxyReq, req) => {
    const route = pending.get(req)
    if (!route) return
    const ms = route.service.connectTimeoutMs + route.service.responseTimeoutMs
    const t = setTimeout(() => proxyReq.destroy(new Error(`no WebSocket handshake within ${ms} ms`)), ms)
    proxyReq.once('upgrade', () => {
      clearTimeout(t)
      upgraded.add(req)
    })
    proxyReq.once('close', () => clearTimeout(t))
  })

  function clean(req: IncomingMessage) {
    const h = req.headers
    const named = connectionTokens(h.connection)
    if (named) for (const k of named) if (k !== 'upgrade') delete h[k]
    h.connection = 'upgrade'
    delete h['proxy-authorization']
    delete h['proxy-connection']
    const addr = clientAddress(req)
    const trusted = o.trustForwarded
    const xff = trusted && h['x-forwarded-for'] ? `${h['x-forwarded-for']}, ${addr}` : addr
    const proto = (trusted && (h['x-forwarded-proto'] as string)) || ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http')
    const host = (trusted && (h['x-forwarded-host'] as string)) || h.host
    if (!trusted) for (const k of FORWARDED) delete h[k]
    h['x-forwarded-for'] = xff
    h['x-forwarded-proto'] = proto
    if (host) h['x-forwarded-host'] = host
    for (const k of Object.keys(h)) if (k.startsWith('x-dx-') && k !== 'x-dx-client') delete h[k]
  }

  /** A page may open a socket to its own origin only; a program with no Origin is let through. */
  function foreignOrigin(req: IncomingMessage): string | undefined {
    const origin = req.headers.origin
    if (origin === undefined) return undefined
    const own = [req.headers.host, o.trustForwarded ? (req.headers['x-forwarded-host'] as string | undefined) : undefined]
    return originAllowed(origin, own) ? undefined : origin
  }

  function handle(req: IncomingMessage, socket: Duplex, head: Buffer, route: Route) {
    socket.on('error', () => socket.destroy())
    const bad = forbidden(req.url ?? '/')
    if (bad) return reject(socket, `${bad.status} ${bad.status === 404 ? 'Not Found' : 'Bad Request'}`)
    // A handshake has no body; one that claims to is a smuggling attempt.
    if (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0) {
      return reject(socket, '400 Bad Request')
    }
    const foreign = foreignOrigin(req)
    if (foreign) {
      log.warn(`${route.service.name}: refused a WebSocket from a page on ${foreign.slice(0, 100)}`)
      return reject(socket, '403 Forbidden')
    }
    const target = route.upstreams.pick()
    // A refused handshake reaches the browser as close code 1006, on which htmx-ext-ws reconnects.
    if (!target) return reject(socket, '503 Service Unavailable', 'x-dx-fallback: no-upstream\r\n')
    clean(req)
    pending.set(req, route)
    open.add(socket)
    socket.once('close', () => open.delete(socket))
    proxy.ws(req, socket, head, { target }, (err: NodeJS.ErrnoException) => {
      if (!upgraded.has(req)) {
        if (err.code === 'ECONNREFUSED' && route.upstreams.markDown(target)) log.warn(`${route.service.name}: ${target.origin} ${err.code} (WebSocket)`)
        reject(socket, '502 Bad Gateway', 'x-dx-fallback: refused\r\n')
      }
      socket.destroy()
    })
  }

  function close() {
    for (const s of open) s.end()
    open.clear()
    proxy.close()
  }

  return { handle, close }
}
