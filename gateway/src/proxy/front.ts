import { EventEmitter } from 'node:events'
import { STATUS_CODES, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { HTTPParser, methods, type Parser } from './llhttp.js'

/**
 * The client side of plain proxied requests, read on the raw socket with Node's parser
 * instead of by Node's http server, which wraps each request and answer in streams (in
 * paired runs here, the gateway spent about 14% less CPU per proxied request without them).
 * It takes only the simplest case, a whole HTTP/1.1 request head for a service, with no
 * body, no `Expect` and no `Upgrade`, in the bytes at hand. Anything else (the gateway's
 * own pages, the event stream, bodies, upgrades, a head cut across reads, a malformed one)
 * goes with its connection, byte for byte, to Node's http server, which keeps it from then
 * on with all its defences.
 */

/** The request as the forwarder reads it. */
export type FrontRequest = {
  method: string
  url: string
  rawHeaders: string[]
  socket: Socket
}

export type FrontOptions = {
  /** Serves the request if it is one the front takes (a service's), else returns false. */
  serve: (req: FrontRequest, res: FrontResponse) => boolean
  /** While draining, every answer closes its connection. */
  draining: () => boolean
  /** A connection idle this long after an answer is closed (Node's keepAliveTimeout, read as it is now). */
  keepAliveMs: () => number
  /** A new connection that sends no request this long is closed (Node's headersTimeout). */
  headerTimeoutMs: number
}

// Bytes of later requests held while one is answered; beyond this the socket is paused.
const MAX_PENDING = 64 * 1024
const SWEEP_MS = 1000

/**
 * Puts the front before Node's http server: `server` still listens, closes and counts
 * connections, but each new one is read here first.
 */
export function installFront(server: Server, opts: FrontOptions) {
  const nodeListeners = server.listeners('connection') as Array<(s: Socket) => void>
  server.removeAllListeners('connection')
  const conns = new Set<FrontConn>()
  let sweeper: NodeJS.Timeout | undefined
  let keepAliveMs = -1
  let keepAliveHeader = ''
  const front: Front = {
    opts,
    conns,
    closing: false,
    keepAliveHeader() {
      const ms = opts.keepAliveMs()
      if (ms !== keepAliveMs) {
        keepAliveMs = ms
        keepAliveHeader = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(ms / 1000)}\r\n`
      }
      return keepAliveHeader
    },
    handOver(socket: Socket) {
      for (const l of nodeListeners) l.call(server, socket)
    },
  }
  server.on('connection', (socket: Socket) => {
    conns.add(new FrontConn(socket, front))
    sweeper ??= setInterval(sweep, SWEEP_MS, conns).unref()
  })
  server.on('close', () => {
    clearInterval(sweeper)
    sweeper = undefined
  })
  return {
    /** Idle connections close now, busy ones after their answer. */
    drain() {
      front.closing = true
      for (const c of conns) if (!c.res) c.socket.destroy()
    },
    /** Cuts every connection the front still holds. */
    destroy() {
      for (const c of conns) c.socket.destroy()
    },
  }
}
type Front = { opts: FrontOptions; conns: Set<FrontConn>; closing: boolean; keepAliveHeader(): string; handOver(socket: Socket): void }

const CLOSE = 'Connection: close\r\n'

// A body, an expectation or an upgrade: Node's server reads those requests. A name is
// lowercased only when its length is one of theirs (each has a length of its own).
const HAND_OVER = new Set(['expect', 'upgrade', 'content-length', 'transfer-encoding'])
const HAND_OVER_LENGTHS = new Set([...HAND_OVER].map((name) => name.length))

function sweep(conns: Set<FrontConn>) {
  const now = Date.now()
  for (const c of conns) if (!c.res && now - c.idleSince > c.idleLimit) c.socket.destroy()
}

/** One client connection while the front holds it. */
class FrontConn {
  private readonly parser: Parser
  /** Bytes not yet parsed: the next request's head onward. */
  private pending: Buffer | undefined
  /** The answer in progress; the connection is idle without one. */
  res: FrontResponse | undefined
  idleSince = Date.now()
  idleLimit: number
  private req: FrontRequest | undefined
  private keepAlive = true
  private gone = false

  constructor(
    readonly socket: Socket,
    private readonly front: Front,
  ) {
    this.idleLimit = front.opts.headerTimeoutMs
    const p = (this.parser = new HTTPParser())
    p[HTTPParser.kOnHeadersComplete] = this.onHead
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', noop)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
  }

  private onData = (chunk: Buffer) => {
    const p = this.pending
    this.pending = p ? Buffer.concat([p, chunk]) : chunk
    if (!this.res) return this.next()
    // Pipelined while an answer is on its way: read on after it.
    if (this.pending.length > MAX_PENDING) this.socket.pause()
  }

  /** Reads the next request's head from the bytes at hand, and serves it or hands over. */
  private next() {
    const data = this.pending
    // One request at a time: a later one is read once this answer is out, so answers
    // cannot cross. (Bytes a resumed socket had buffered may have started one already.)
    if (!data || this.res || this.gone || this.socket.destroyed) return
    this.req = undefined
    this.parser.initialize(HTTPParser.REQUEST, this, 0, 0)
    const n = this.parser.execute(data)
    const req = this.req as FrontRequest | undefined
    if (typeof n !== 'number' || !req) return this.handOver()
    this.pending = n < data.length ? data.subarray(n) : undefined
    const keepAlive = this.keepAlive && !this.front.closing && !this.front.opts.draining()
    const res = (this.res = new FrontResponse(this, req.method === 'HEAD', keepAlive ? this.front.keepAliveHeader() : CLOSE))
    if (!this.front.opts.serve(req, res)) {
      // Not a service's: Node's server gets the connection, this request first.
      this.res = undefined
      this.pending = data
      this.handOver()
    }
  }

  // Whatever the head, parsing stops after it (2: as if an upgrade followed), so the
  // bytes after it stay raw, for the next request or for Node's server.
  private onHead = (maj: number, min: number, headers: string[] | undefined, method: number, url: string, _s: unknown, _t: unknown, upgrade: boolean, keepAlive: boolean) => {
    // Over 32 headers arrive in parts: rare, and Node's server puts them together.
    if (maj !== 1 || min !== 1 || upgrade || !headers || !url) return 2
    let host = false
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]
      const n = name.length
      if (n === 4) {
        if (name.toLowerCase() === 'host') host = true
      } else if (HAND_OVER_LENGTHS.has(n) && HAND_OVER.has(name.toLowerCase())) return 2
    }
    // Node's server answers a request without Host with 400.
    if (!host) return 2
    this.keepAlive = keepAlive
    this.req = { method: methods[method], url, rawHeaders: headers, socket: this.socket }
    return 2
  }

  /** Node's http server takes the connection, with every byte not yet parsed. */
  private handOver() {
    const { socket } = this
    this.gone = true
    this.front.conns.delete(this)
    socket.off('data', this.onData)
    socket.off('end', this.onEnd)
    socket.off('error', noop)
    socket.off('close', this.onClose)
    socket.off('drain', this.onDrain)
    this.parser.close()
    // Paused while it changes hands, so Node's server reads these bytes first, then the rest.
    socket.pause()
    if (this.pending) socket.unshift(this.pending)
    this.pending = undefined
    this.front.handOver(socket)
    socket.resume()
  }

  /** The answer went out whole. */
  finished(res: FrontResponse) {
    if (this.res !== res) return
    this.res = undefined
    this.idleSince = Date.now()
    this.idleLimit = this.front.opts.keepAliveMs()
    if (res.connection === CLOSE || this.front.closing) return void this.socket.end()
    if (this.socket.isPaused()) this.socket.resume()
    // A pipelined request is read after the caller's own tail (the upstream socket goes
    // back to its pool first).
    if (this.pending) process.nextTick(() => this.next())
  }

  private onEnd = () => {
    // The client hung up. As with Node's server (and NGINX), an answer in progress is
    // dropped, and its upstream request with it.
    if (this.res) this.socket.destroy()
    else this.socket.end()
  }

  private onDrain = () => {
    this.res?.emit('drain')
  }

  private onClose = () => {
    this.gone = true
    this.front.conns.delete(this)
    this.parser.close()
    const res = this.res
    this.res = undefined
    res?.gone()
  }
}

function noop() {}

// Node's http server sends a Date on every answer; it changes once a second.
let dateSecond = 0
let dateText = ''
function httpDate(): string {
  const now = Date.now()
  const s = Math.floor(now / 1000)
  if (s !== dateSecond) {
    dateSecond = s
    dateText = new Date(now).toUTCString()
  }
  return dateText
}

/**
 * The answer to one request the front took, framed as Node's ServerResponse frames it:
 * the upstream's Content-Length kept, chunked otherwise, no body for HEAD, 204 and 304,
 * Date, and keep-alive or close. It has the part of ServerResponse the forwarder uses.
 */
export class FrontResponse extends EventEmitter {
  statusCode = 200
  headersSent = false
  writableFinished = false
  destroyed = false
  private closed = false
  private head: string | undefined
  private chunked = false

  constructor(
    private readonly conn: FrontConn,
    private bodyless: boolean,
    /** The Connection header(s) this answer carries: keep-alive, or close. */
    readonly connection: string,
  ) {
    super()
  }

  writeHead(status: number, text: string, headers: string[]): this
  writeHead(status: number, headers: Record<string, string | number>): this
  writeHead(status: number, a: string | Record<string, string | number>, b?: string[]): this {
    this.statusCode = status
    let head = `HTTP/1.1 ${status} ${typeof a === 'string' ? a : (STATUS_CODES[status] ?? 'unknown')}\r\n`
    let length = false
    let date = false
    const add = (name: string, value: string | number) => {
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true
      head += `${name}: ${value}\r\n`
    }
    if (b) for (let i = 0; i < b.length; i += 2) add(b[i], b[i + 1])
    else for (const name in a as Record<string, string | number>) add(name, (a as Record<string, string | number>)[name])
    if (status === 204 || status === 304 || status < 200) this.bodyless = true
    if (!date) head += `Date: ${httpDate()}\r\n`
    head += this.connection
    if (!this.bodyless && !length) {
      this.chunked = true
      head += 'Transfer-Encoding: chunked\r\n'
    }
    this.head = head + '\r\n'
    this.headersSent = true
    return this
  }

  /** The head goes out with the first piece of the body, in one write. */
  write(chunk: Buffer | string): boolean {
    if (this.destroyed) return false
    const { socket } = this.conn
    const head = this.head
    if (this.bodyless || chunk.length === 0) {
      if (head === undefined) return true
      this.head = undefined
      return socket.write(head, 'latin1')
    }
    socket.cork()
    if (head !== undefined) {
      this.head = undefined
      socket.write(head, 'latin1')
    }
    if (this.chunked) socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n`, 'latin1')
    socket.write(chunk)
    if (this.chunked) socket.write('\r\n', 'latin1')
    socket.uncork()
    return !socket.writableNeedDrain
  }

  end(data?: Buffer | string): this {
    if (this.destroyed || this.writableFinished) return this
    if (!this.headersSent) this.writeHead(this.statusCode, {})
    if (data !== undefined) this.write(data)
    else if (this.head !== undefined) this.write('')
    if (this.chunked) this.conn.socket.write('0\r\n\r\n', 'latin1')
    this.writableFinished = this.closed = true
    this.emit('close')
    this.conn.finished(this)
    return this
  }

  /** An answer that cannot be finished: the connection goes, as with Node's server. */
  destroy(): this {
    if (this.destroyed || this.writableFinished) return this
    this.destroyed = true
    this.conn.socket.destroy()
    return this
  }

  /** The connection closed before the answer was whole. */
  gone() {
    if (this.closed) return
    this.destroyed = this.closed = true
    this.emit('close')
  }
}
