import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { listen } from './helpers.js'

export type Seen = { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer }

/**
 * An upstream that keeps the raw bytes each connection received, next to what its HTTP
 * parser made of them: a smuggled second request shows up as a second entry in `requests`.
 */
export async function recordingUpstream(handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void) {
  const requests: Seen[] = []
  const raw: Buffer[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      if (handler) return handler(req, res, body)
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(`ok ${req.method} ${req.url} ${body.length}`)
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('data', (d: Buffer) => raw.push(d))
  })
  const port = await listen(server)
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Everything received, on every connection, as text. */
    rawText: () => Buffer.concat(raw).toString('latin1'),
    openSockets: () => sockets.size,
    reset() {
      requests.length = 0
      raw.length = 0
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
export type Recorder = Awaited<ReturnType<typeof recordingUpstream>>

/**
 * Sends raw bytes to the gateway and collects what comes back until the connection closes
 * or goes quiet. `parts` are written in turn; a function part waits for the reply so far.
 */
export async function raw(port: number, parts: Array<string | Buffer | ((soFar: string) => boolean)>, quietMs = 400, maxMs = 5000): Promise<string> {
  const sock = connect(port, '127.0.0.1')
  sock.on('error', () => {})
  let got = ''
  let wake: (() => void) | undefined
  sock.on('data', (d) => {
    got += d.toString('latin1')
    wake?.()
  })
  const closed = new Promise<void>((r) => sock.once('close', () => r()))
  await new Promise<void>((r) => sock.once('connect', () => r()))
  const deadline = Date.now() + maxMs
  for (const part of parts) {
    if (typeof part === 'function') {
      while (!part(got) && Date.now() < deadline && !sock.destroyed) {
        await Promise.race([new Promise<void>((r) => (wake = r)), new Promise((r) => setTimeout(r, 50)), closed])
      }
      continue
    }
    if (!sock.destroyed) sock.write(part)
  }
  // Read until the socket closes or nothing more arrives for quietMs.
  for (;;) {
    const before = got.length
    const ended = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), quietMs))])
    if (ended || got.length === before || Date.now() > deadline) break
  }
  sock.destroy()
  return got
}

/** The status codes of every response in a raw reply, in order. */
export const statuses = (reply: string) => [...reply.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]))

/** The headers of the first final (non-1xx) response in a raw reply, lowercased names. */
export function headersOf(reply: string): Record<string, string> {
  const blocks = reply.split('\r\n\r\n')
  const head = blocks.find((b) => /^HTTP\/1\.1 [2-5]/.test(b)) ?? ''
  const out: Record<string, string> = {}
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':')
    if (i > 0) out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
  }
  return out
}

/** A chunked body of the given chunks, terminated. */
export const chunked = (...chunks: string[]) => chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n'
