import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * Node hands every request with `Connection: upgrade` to the `upgrade` event, whatever it
 * asks for. A non-WebSocket one (`Upgrade: h2c`) is served as the plain HTTP request it
 * also is: its head is written back without the upgrade and the socket given to the
 * server again. The head was already parsed and checked by Node, so it is rebuilt safely.
 */
export function serveAsPlainHttp(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer) {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i].toLowerCase()
    if (key === 'upgrade') continue
    if (key === 'connection') {
      const rest = raw[i + 1]
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t && t.toLowerCase() !== 'upgrade')
      if (rest.length) lines.push(`Connection: ${rest.join(', ')}`)
      continue
    }
    lines.push(`${raw[i]}: ${raw[i + 1]}`)
  }
  socket.unshift(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), head]))
  server.emit('connection', socket)
}
