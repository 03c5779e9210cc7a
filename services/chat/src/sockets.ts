import type { Server } from 'node:http'
import type { Logger } from '@dx/kit'
import { WebSocketServer } from 'ws'
import type { Hub } from './hub.js'

// Frames between 16 KiB (MAX_FRAME_BYTES) and this are refused by the hub with 1008; above
// it `ws` itself closes with 1009 before buffering more.
const MAX_PAYLOAD = 1024 * 1024

/** Accepts WebSocket upgrades on `/chat/ws` and hands them to the hub; refuses anything else. */
export function attachSockets(server: Server, hub: Hub, log: Logger) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD })
  let open = true
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path !== '/chat/ws') return void socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n')
    // While draining, a refused handshake makes the page retry, by then on a new process.
    if (!open) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n')
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
