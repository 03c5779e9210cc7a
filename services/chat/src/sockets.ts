import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { allowedOrigins, originAllowed, type Logger } from '@dx/kit'
import { WebSocketServer } from 'ws'
import type { Hub } from './hub.js'
import { pathOf } from './target.js'

// Frames between 16 KiB (MAX_FRAME_BYTES) and this are refused by the hub with 1008; above
// it `ws` itself closes with 1009 before buffering more.
const MAX_PAYLOAD = 1024 * 1024

const refuse = (socket: Duplex, status: string) => void socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)

/**
 * Accepts WebSocket upgrades on `/chat/ws` and hands them to the hub; refuses anything
 * else. A page of another site may not open a socket here (the browser would send its
 * cookies): a foreign `Origin` gets 403. No `Origin` is a program, not a browser.
 */
export function attachSockets(server: Server, hub: Hub, log: Logger, allowed: ReadonlySet<string> = allowedOrigins()) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD })
  let open = true
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    // Split, not new URL(): a target like "//a:99999/chat/ws" must not throw in an event handler.
    if (pathOf(req.url) !== '/chat/ws') return refuse(socket, '404 Not Found')
    const origin = req.headers.origin
    if (origin !== undefined && !originAllowed(origin, [req.headers.host], allowed)) {
      log.warn(`refused a WebSocket from origin ${origin.slice(0, 100)}: not this site nor an allowed origin`)
      return refuse(socket, '403 Forbidden')
    }
    // While draining, a refused handshake makes the page retry, by then on a new process.
    if (!open) return refuse(socket, '503 Service Unavailable')
    wss.handleUpgrade(req, socket, head, (ws) => hub.connect(ws, req))
  })
  wss.on('error', (e) => log.error('WebSocket server error', e))
  return {
    close() {
      open = false
      hub.shutdown()
    },
  }
}
