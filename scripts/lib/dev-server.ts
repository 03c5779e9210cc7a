// `make watch`'s reload stream: one Server-Sent Events endpoint in the runner, because a
// page must hear of restarts of other processes too (the main app shows todo's widget).
// Pages reach it through packages/ui/src/client/dev-reload.js. Dev only: it binds the
// listen host, and answers pages on loopback or on the runner's own host name, any port.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

export type DevEvent = 'reload' | 'css'

export type DevServer = {
  server: Server
  /** The port it listens on (the one asked for, or the one given for port 0). */
  port: number
  /** Sends an event to every open page. */
  send: (event: DevEvent, data: unknown) => void
  clients: () => number
  close: () => Promise<void>
}

const PING_MS = 15_000
/** A page that stops reading is dropped once this much is queued for it. */
const MAX_QUEUED_BYTES = 64 * 1024
const MAX_CLIENTS = 200

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Pages of this system: on loopback, or on the host name the page used to reach this
 * server (the parts share the runner's HOST), whatever their port. Null for any other.
 */
export function allowedOrigin(origin: string | undefined, host: string | undefined): string | null {
  if (!origin) return null
  let o: URL
  try {
    o = new URL(origin)
  } catch {
    return null
  }
  if (o.protocol !== 'http:' && o.protocol !== 'https:') return null
  const own = host ? host.replace(/:\d+$/, '').toLowerCase() : undefined
  return LOOPBACK.has(o.hostname) || o.hostname === own ? o.origin : null
}

/** One SSE message; `data` is JSON on one line, so no framing can be broken by it. */
export const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

export function startDevServer(opts: { host: string; port: number }): Promise<DevServer> {
  // Told to every page on connect: a page that sees another id knows the runner restarted.
  const runId = randomBytes(8).toString('hex')
  const clients = new Set<ServerResponse>()

  const write = (res: ServerResponse, text: string) => {
    if (res.writableLength > MAX_QUEUED_BYTES) return res.destroy()
    res.write(text)
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin
    const allowed = allowedOrigin(origin, req.headers.host)
    if (origin !== undefined && !allowed) return end(res, 403, 'the dev stream is only for pages of this system\n')
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/events') return end(res, 404, 'make watch: the reload stream is at /events\n')
    if (req.method !== 'GET') return end(res, 405, 'GET only\n')
    if (clients.size >= MAX_CLIENTS) return end(res, 503, 'too many open pages\n')
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(allowed ? { 'access-control-allow-origin': allowed, vary: 'Origin' } : {}),
    })
    // A page reconnects within a second when the runner comes back.
    res.write(`retry: 1000\n${frame('hello', runId)}`)
    clients.add(res)
    res.on('close', () => clients.delete(res))
  }

  const server = createServer(handle)
  const ping = setInterval(() => clients.forEach((res) => write(res, ': ping\n\n')), PING_MS)
  ping.unref()

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
      server.off('error', reject)
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        send: (event, data) => clients.forEach((res) => write(res, frame(event, data))),
        clients: () => clients.size,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(ping)
            clients.forEach((res) => res.end())
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}

function end(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
  res.end(text)
}
