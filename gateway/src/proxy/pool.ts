import { connect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { HTTPParser, type Parser } from './llhttp.js'

/** A request as the forwarder hands it over: headers already built for the upstream. */
export type UpstreamRequest = { method: string; path: string; headers: string[]; body: Buffer | null }

/**
 * Receives one exchange's events; none comes after the exchange is aborted.
 * - onConnect: a socket is ready and the request is about to be written; `abort` drops it;
 * - onHeaders: the response's head, names and values as sent (latin1); false pauses the
 *   body until `resume`;
 * - onData: a body chunk; false pauses until `resume`.
 */
export interface UpstreamHandler {
  onConnect(abort: () => void): void
  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): boolean
  onData(chunk: Buffer): boolean
  onComplete(): void
  onError(err: NodeJS.ErrnoException): void
}

/** The socket closed before the response was whole. */
export const CLOSED = 'DX_UPSTREAM_CLOSED'

const fault = (message: string, code: string) => Object.assign(new Error(message), { code })

// A service's kept-alive socket is closed by us before the service would close it. Node's
// http server closes after 5 s; one that says `Keep-Alive: timeout=N` gets N - 1 s.
const IDLE_MS = 4000
const SWEEP_MS = 1000

// Bodies go with these methods, so an empty one is announced (as undici and curl do).
const PAYLOAD = new Set(['POST', 'PUT', 'PATCH'])

/** One request on its way: queued for a socket, then on one. */
class Exchange {
  conn: Conn | undefined
  sent = false
  aborted = false
  readonly abort = () => {
    if (this.aborted) return
    this.aborted = true
    // Once written, its socket cannot be reused. Queued or connecting: dropped when its
    // turn comes, and the socket serves the next.
    if (this.sent && this.conn?.ex === this) this.conn.socket.destroy()
  }
  /** Ends a pause the handler asked for; a late call, after the exchange, does nothing. */
  readonly resume = () => {
    const c = this.conn
    if (c?.ex === this && !c.socket.destroyed) c.socket.resume()
  }
  constructor(
    readonly req: UpstreamRequest,
    readonly handler: UpstreamHandler,
  ) {}
}

/** One socket to the replica, with its parser; it carries one exchange at a time. */
class Conn {
  readonly socket: Socket
  private readonly parser: Parser
  ex: Exchange | undefined
  private responded = false
  private finished = false
  private informational = false
  private keep = false
  private extra = false
  private headers: string[] = []
  keepMs = IDLE_MS
  idleSince = 0
  private error: NodeJS.ErrnoException | undefined
  private connectTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly pool: UpstreamPool,
    first: Exchange,
  ) {
    this.ex = first
    first.conn = this
    const { host, port, tls } = pool
    // An https:// replica's certificate is checked against the system's CAs (and
    // NODE_EXTRA_CA_CERTS), for its host name.
    const socket = (this.socket = tls ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], ...tls }) : connect({ host, port }))
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)
    this.connectTimer = setTimeout(onConnectTimeout, pool.connectTimeoutMs, this)
    const p = (this.parser = new HTTPParser())
    p.initialize(HTTPParser.RESPONSE, {}, 0, 0)
    p[HTTPParser.kOnHeaders] = (h: string[]) => void this.headers.push(...h)
    p[HTTPParser.kOnHeadersComplete] = this.onHeadersComplete
    p[HTTPParser.kOnBody] = this.onBody
    p[HTTPParser.kOnMessageComplete] = this.onMessageComplete
    socket.on(tls ? 'secureConnect' : 'connect', this.onConnected)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onSocketError)
    socket.on('close', this.onClose)
  }

  timedOut() {
    this.connectTimer = undefined
    this.error = fault(`not connected within ${this.pool.connectTimeoutMs} ms`, 'ETIMEDOUT')
    this.socket.destroy()
  }

  private onConnected = () => {
    clearTimeout(this.connectTimer)
    const ex = this.ex
    this.ex = undefined
    if (ex && !ex.aborted) this.run(ex)
    else this.pool.release(this)
  }

  /** Writes the request, head and body in one go. */
  run(ex: Exchange) {
    this.ex = ex
    ex.conn = this
    this.responded = this.finished = this.informational = this.extra = false
    ex.handler.onConnect(ex.abort)
    if (ex.aborted) {
      // Dropped before a byte went out: the socket is as good as before.
      this.ex = undefined
      if (!this.socket.destroyed) this.pool.release(this)
      return
    }
    const { method, path, headers, body } = ex.req
    // Names and values come from Node's parser, which refused CR, LF and NUL in them, or
    // from the gateway itself: nothing here can split the head.
    let head = `${method} ${path} HTTP/1.1\r\n`
    let host = false
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]
      if (name.length === 4 && name.toLowerCase() === 'host') host = true
      head += `${name}: ${headers[i + 1]}\r\n`
    }
    if (!host) head += `Host: ${this.pool.hostHeader}\r\n`
    ex.sent = true
    if (body?.length) {
      this.socket.cork()
      this.socket.write(`${head}Content-Length: ${body.length}\r\n\r\n`, 'latin1')
      this.socket.write(body)
      this.socket.uncork()
    } else this.socket.write(PAYLOAD.has(method) ? `${head}Content-Length: 0\r\n\r\n` : `${head}\r\n`, 'latin1')
  }

  private onHeadersComplete = (_maj: number, _min: number, headers: string[] | undefined, _m: unknown, _u: unknown, status: number, statusText: string, upgrade: boolean, keep: boolean) => {
    const ex = this.ex
    // Bytes the replica sent that answer nothing: this socket is not to be trusted again.
    if (!ex || this.responded) {
      this.extra = true
      return 1
    }
    const h = headers ?? this.headers.splice(0)
    if (status < 200 && status !== 101) {
      // 1xx before the answer: nothing to pass on, the gateway answered Expect itself.
      this.informational = true
      return 1
    }
    if (upgrade || status === 101) {
      this.error = fault(`answered ${status} with an upgrade to a plain request`, 'DX_UPSTREAM_UPGRADE')
      this.socket.destroy()
      return 1
    }
    this.responded = true
    this.keep = keep
    if (keep) this.keepMs = keepAliveMs(h)
    if (ex.aborted) return 1
    if (!ex.handler.onHeaders(status, h, ex.resume, statusText)) this.socket.pause()
    // A HEAD answer announces a body that does not follow.
    return ex.req.method === 'HEAD' ? 1 : 0
  }

  private onBody = (chunk: Buffer) => {
    const ex = this.ex
    if (!ex || ex.aborted || this.extra) return
    if (!ex.handler.onData(chunk)) this.socket.pause()
  }

  private onMessageComplete = () => {
    if (this.informational) {
      this.informational = false
      return
    }
    if (this.extra || !this.responded) return
    this.finished = true
  }

  private onData = (data: Buffer) => {
    if (!this.ex) {
      // Nothing asked: a replica talking out of turn is cut off.
      this.socket.destroy()
      return
    }
    const ret = this.parser.execute(data)
    if (ret instanceof Error) {
      this.error = fault(`bad response: ${(ret as Error & { reason?: string }).reason ?? ret.message}`, 'DX_UPSTREAM_PARSE')
      this.extra = true
    }
    // An answer that came whole is passed on, whatever follows it.
    if (this.finished) this.complete()
    if (this.extra) this.socket.destroy()
  }

  private complete() {
    const ex = this.ex!
    this.ex = undefined
    this.finished = false
    // Reused only when the request went out whole and nothing followed the answer.
    const reusable = this.keep && !this.extra && this.socket.writableLength === 0 && !this.pool.closing
    if (!ex.aborted) ex.handler.onComplete()
    if (reusable && !this.socket.destroyed) {
      // Paused for a slow client just before the end: the next exchange must be read.
      this.socket.resume()
      this.pool.release(this)
    } else this.socket.destroy()
  }

  private onEnd = () => {
    // A body that runs until the socket closes ends here.
    if (this.ex && this.responded) {
      const err = this.parser.finish()
      if (!err && this.finished) {
        this.keep = false
        this.complete()
      }
    }
    this.socket.destroy()
  }

  private onSocketError = (err: NodeJS.ErrnoException) => {
    this.error ??= err
  }

  private onClose = () => {
    clearTimeout(this.connectTimer)
    this.parser.close()
    const ex = this.ex
    this.ex = undefined
    this.pool.gone(this)
    if (ex && !ex.aborted) ex.handler.onError(this.error ?? fault('the replica closed the connection', CLOSED))
  }
}

function onConnectTimeout(c: Conn) {
  c.timedOut()
}

/** `Keep-Alive: timeout=N` from the replica: its idle sockets are given up a second before. */
function keepAliveMs(h: string[]): number {
  for (let i = 0; i < h.length; i += 2) {
    if (h[i].length !== 10 || h[i].toLowerCase() !== 'keep-alive') continue
    const m = /timeout=(\d+)/i.exec(h[i + 1])
    if (m) return Math.min(IDLE_MS, Math.max(0, Number(m[1]) * 1000 - 1000))
  }
  return IDLE_MS
}

/**
 * Kept-alive HTTP/1.1 connections to one replica, at most `max` at once; requests beyond
 * that wait in order. It has no timers of its own but the connect timeout and the idle
 * sweep: the exchange bounds every other wait, time in the queue included.
 *
 * With make bench's upstream at 64 connections, the gateway cost 38-44 µs of user CPU per
 * proxied request through undici's pools, 22-25 µs through these.
 */
export class UpstreamPool {
  readonly host: string
  readonly port: number
  readonly hostHeader: string
  /** Set for an https:// replica: its TLS options. */
  readonly tls: ConnectionOptions | undefined
  private readonly conns = new Set<Conn>()
  private readonly idle: Conn[] = []
  private readonly queue: Exchange[] = []
  private queueHead = 0
  closing = false
  private sweeper: NodeJS.Timeout | undefined
  private drained: (() => void) | undefined

  constructor(
    origin: URL,
    readonly max: number,
    readonly connectTimeoutMs: number,
    tls: ConnectionOptions = {},
  ) {
    this.host = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname
    this.tls = origin.protocol === 'https:' ? tls : undefined
    this.port = Number(origin.port || (this.tls ? 443 : 80))
    this.hostHeader = origin.host
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler) {
    const ex = new Exchange(req, handler)
    if (this.closing) {
      process.nextTick(() => handler.onError(fault('the gateway is shutting down', CLOSED)))
      return
    }
    const now = Date.now()
    let conn: Conn | undefined
    while ((conn = this.idle.pop())) {
      if (now - conn.idleSince < conn.keepMs && !conn.socket.destroyed) return conn.run(ex)
      conn.socket.destroy()
    }
    if (this.conns.size < this.max) return void this.conns.add(new Conn(this, ex))
    this.queue.push(ex)
  }

  /** A connection is free: the next in line gets it, else it waits, kept alive. */
  release(conn: Conn) {
    const next = this.next()
    if (next) return conn.run(next)
    if (this.closing) return void conn.socket.destroy()
    conn.idleSince = Date.now()
    this.idle.push(conn)
    this.sweeper ??= setInterval(sweep, SWEEP_MS, this).unref()
  }

  /** A connection closed: a waiting request may open another. */
  gone(conn: Conn) {
    this.conns.delete(conn)
    const at = this.idle.lastIndexOf(conn)
    if (at !== -1) this.idle.splice(at, 1)
    const next = this.conns.size < this.max ? this.next() : undefined
    if (next) this.conns.add(new Conn(this, next))
    if (this.closing && this.conns.size === 0) this.drained?.()
  }

  private next(): Exchange | undefined {
    const q = this.queue
    while (this.queueHead < q.length) {
      const ex = q[this.queueHead]
      q[this.queueHead++] = undefined as unknown as Exchange
      if (this.queueHead === q.length) {
        q.length = 0
        this.queueHead = 0
      } else if (this.queueHead >= 1024 && this.queueHead * 2 >= q.length) {
        // A queue that never empties, under a long overload, would grow without end.
        q.splice(0, this.queueHead)
        this.queueHead = 0
      }
      if (!ex.aborted) return ex
    }
    return undefined
  }

  sweep() {
    const now = Date.now()
    for (const c of [...this.idle]) if (now - c.idleSince >= c.keepMs) c.socket.destroy()
    if (this.idle.length === 0 && this.sweeper) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }

  /** Lets requests in flight and in line finish, then closes every socket. */
  close(): Promise<void> {
    this.closing = true
    for (const c of this.idle.splice(0)) c.socket.destroy()
    if (this.conns.size === 0) return Promise.resolve()
    return new Promise((resolve) => (this.drained = resolve))
  }

  /** Cuts whatever is left: each exchange in flight or in line gets its error. */
  destroy() {
    this.closing = true
    if (this.sweeper) clearInterval(this.sweeper)
    let ex: Exchange | undefined
    while ((ex = this.next())) {
      const h = ex.handler
      process.nextTick(() => h.onError(fault('the gateway is shutting down', CLOSED)))
    }
    for (const c of this.conns) c.socket.destroy()
  }
}

function sweep(p: UpstreamPool) {
  p.sweep()
}
