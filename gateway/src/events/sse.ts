import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Bus } from '@dx/bus'
import { envelopeError, type Envelope, type Logger } from '@dx/kit'

/**
 * `GET /_dx/events`: the relayed events as Server-Sent Events, for every open page (the
 * main app on this origin, standalone pages from their own origins). Each envelope is
 * encoded once and the same bytes go to every client; the last `bufferSize` are kept so
 * that a page that reconnects with `Last-Event-ID` (or `?lastEventId=`) gets what it
 * missed, or `dx:resync` when that is no longer here. A client that does not read is cut
 * off once its unsent output passes `maxBufferedBytes`, so memory stays bounded.
 */

export type SseHubOptions = {
  bus: Bus
  log: Logger
  /** Origins (lowercase `scheme://host:port`) whose pages may read the stream: the standalone pages. */
  allowedOrigins: ReadonlySet<string>
  /** Events kept for replay; default 1000. */
  bufferSize?: number
  /** Interval of the `: ping` comment; default 15 s. */
  heartbeatMs?: number
  /**
   * A client whose unsent output stays over this for `slowClientGraceMs` is dropped, and
   * at once when it passes 16 times this; default 64 KiB. A replay larger than half of
   * it is replaced by `dx:resync`.
   */
  maxBufferedBytes?: number
  /** How long a client may stay over `maxBufferedBytes` (a burst draining); default 2 s. */
  slowClientGraceMs?: number
  /** More clients at once get 503; default 10,000. */
  maxClients?: number
}

export type SseHub = {
  /** Answers `GET`/`HEAD` (the stream) and `OPTIONS` (CORS preflight) of `/_dx/events`; other methods get 405. */
  handle(req: IncomingMessage, res: ServerResponse): void
  clients(): number
  /** Clients cut off because they did not read. */
  readonly dropped: number
  /** Ends every stream and unsubscribes; later requests get 503. */
  close(): void
}

/** The subject the hub listens on: every relayed event. */
export const EVENTS_SUBJECT = 'dx.events.>'
export const RESYNC_EVENT = 'dx:resync'

const LINE_BREAK = /\r\n|\r|\n/
/** What may go in an `id:` or `event:` field: one line, no NUL (browsers ignore such ids). */
const FIELD = /^[^\r\n\0]*$/

/**
 * One SSE message. Each line of `data` (split at LF, CR or CRLF, as the reader does) gets
 * its own `data:` line, so no value can end the message early or inject a field; `id` and
 * `event` must be single lines (throws otherwise: the caller validates first).
 */
export function sseFrame(f: { id?: string; event?: string; data?: string; retry?: number; comment?: string }): string {
  let out = ''
  if (f.comment !== undefined) for (const line of f.comment.split(LINE_BREAK)) out += `: ${line}\n`
  if (f.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(f.retry))}\n`
  if (f.id !== undefined) {
    if (!FIELD.test(f.id)) throw new Error('sse id: must be one line without NUL')
    out += `id: ${f.id}\n`
  }
  if (f.event !== undefined) {
    if (!FIELD.test(f.event)) throw new Error('sse event: must be one line without NUL')
    out += `event: ${f.event}\n`
  }
  if (f.data !== undefined) {
    // JSON (the usual data) has no raw line breaks: one line, without splitting.
    if (!/[\r\n]/.test(f.data)) out += `data: ${f.data}\n`
    else for (const line of f.data.split(LINE_BREAK)) out += `data: ${line}\n`
  }
  return out + '\n'
}

type Entry = { seq: number; id: string; frame: Buffer }

/** The last `size` frames in publish order, findable by event id. */
class Ring {
  private items: (Entry | undefined)[]
  private start = 0
  private count = 0
  private byId = new Map<string, number>()
  /** Sequence number of the next event; the first is 1, so 0 means "before everything". */
  next = 1

  constructor(private size: number) {
    this.items = new Array(size)
  }

  push(id: string, frame: Buffer) {
    if (this.size === 0) {
      this.next++
      return
    }
    if (this.count === this.size) {
      const old = this.items[this.start]!
      if (this.byId.get(old.id) === old.seq) this.byId.delete(old.id)
      this.items[this.start] = undefined
      this.start = (this.start + 1) % this.size
      this.count--
    }
    const seq = this.next++
    this.items[(this.start + this.count) % this.size] = { seq, id, frame }
    this.count++
    this.byId.set(id, seq)
  }

  seqOf(id: string): number | undefined {
    return this.byId.get(id)
  }

  /** The sequence number of the oldest event still kept (`next` when none is). */
  get oldest(): number {
    return this.count === 0 ? this.next : this.items[this.start]!.seq
  }

  last(): Entry | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.size]
  }

  /** Frames with a sequence number above `seq`, oldest first. */
  after(seq: number): Buffer[] {
    const out: Buffer[] = []
    for (let i = 0; i < this.count; i++) {
      const e = this.items[(this.start + i) % this.size]!
      if (e.seq > seq) out.push(e.frame)
    }
    return out
  }
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
}

/** The last event id a reconnecting client saw: `Last-Event-ID` (EventSource) or `?lastEventId=` (fetch, no preflight). */
function lastEventId(req: IncomingMessage): string | undefined {
  const h = req.headers['last-event-id']
  if (typeof h === 'string' && h !== '') return h
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if (q === -1) return undefined
  try {
    const v = new URLSearchParams(url.slice(q + 1)).get('lastEventId')
    return v === null || v === '' ? undefined : v
  } catch {
    return undefined
  }
}

export function createSseHub(opts: SseHubOptions): SseHub {
  const { bus, log, allowedOrigins } = opts
  const bufferSize = Math.max(0, opts.bufferSize ?? 1000)
  const heartbeatMs = opts.heartbeatMs ?? 15_000
  const maxBuffered = opts.maxBufferedBytes ?? 64 * 1024
  const maxClients = opts.maxClients ?? 10_000
  const graceMs = opts.slowClientGraceMs ?? 2000
  const hardLimit = 16 * maxBuffered

  const ring = new Ring(bufferSize)
  /** Each open stream, with when its unsent output went over the limit (0: it is not). */
  const clients = new Map<ServerResponse, { overSince: number }>()
  // The position of a client that connected before any event: lets it resume from the
  // very beginning after a blip, as long as nothing has left the buffer yet.
  const startId = `dx-start-${randomUUID()}`
  let dropped = 0
  let closed = false
  const warned = new Set<string>()

  const ping = Buffer.from(sseFrame({ comment: 'ping' }))
  const hello = Buffer.from(sseFrame({ retry: 2000 }))
  const resync = Buffer.from(sseFrame({ event: RESYNC_EVENT, data: '{}' }))

  /**
   * Writes to one client and cuts it off when it has stopped reading. Node counts every
   * write of the current tick as unsent until the socket flushes them together, so a burst
   * goes over the limit even for a fast reader: it gets `graceMs` to drain before it is
   * dropped, unless it passes the hard limit (16 times as much, for a flood in one tick).
   * The frames are shared buffers, so what one slow client holds costs far less than its
   * byte count.
   */
  function send(res: ServerResponse, chunk: Buffer) {
    const c = clients.get(res)
    if (!c || res.destroyed) return
    res.write(chunk)
    const unsent = res.writableLength
    if (unsent <= maxBuffered) c.overSince = 0
    else if (unsent > hardLimit || (c.overSince !== 0 && Date.now() - c.overSince >= graceMs)) drop(res)
    else if (c.overSince === 0) c.overSince = Date.now()
  }

  function drop(res: ServerResponse) {
    dropped++
    clients.delete(res)
    res.destroy()
  }

  function broadcast(chunk: Buffer) {
    for (const res of clients.keys()) send(res, chunk)
  }

  function warnOnce(why: string) {
    if (warned.size >= 100 || warned.has(why)) return
    warned.add(why)
    log.warn(`event not streamed to pages (counted once per kind): ${why}`)
  }

  function onEvent(data: unknown) {
    const problem = envelopeError(data)
    if (problem) return warnOnce(`bad envelope: ${problem}`)
    const e = data as Envelope
    if (!FIELD.test(e.id)) return warnOnce('bad envelope: id has a line break or NUL')
    // Only the envelope's own fields go to the pages, whatever else the object carries.
    const env: Envelope = { id: e.id, name: e.name, detail: e.detail ?? null, source: e.source, time: e.time }
    if (e.actor !== undefined) env.actor = e.actor
    if (e.client !== undefined) env.client = e.client
    const frame = Buffer.from(sseFrame({ id: env.id, event: env.name, data: JSON.stringify(env) }))
    ring.push(env.id, frame)
    broadcast(frame)
  }

  const unsubscribe = bus.subscribe(EVENTS_SUBJECT, onEvent)
  const heartbeat = setInterval(() => broadcast(ping), heartbeatMs)
  heartbeat.unref()

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin
    const h: Record<string, string> = { vary: 'Origin' }
    if (typeof origin === 'string' && origin !== 'null' && allowedOrigins.has(origin.toLowerCase())) {
      h['access-control-allow-origin'] = origin
    }
    return h
  }

  function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string | number>) {
    res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const cors = corsHeaders(req)
    const method = req.method ?? 'GET'
    if (method === 'OPTIONS') {
      // Only needed by a page that sends Last-Event-ID itself; the query parameter avoids it.
      const h: Record<string, string> = { ...cors, allow: 'GET, HEAD, OPTIONS', 'cache-control': 'no-store' }
      if (h['access-control-allow-origin']) {
        h['access-control-allow-methods'] = 'GET'
        h['access-control-allow-headers'] = 'last-event-id'
        h['access-control-max-age'] = '600'
      }
      res.writeHead(204, h)
      res.end()
      return
    }
    if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'Method not allowed: the event stream is read with GET.', { ...cors, allow: 'GET, HEAD, OPTIONS' })
    if (closed) return plain(res, 503, 'The gateway is shutting down.', { ...cors, 'retry-after': 2 })
    if (clients.size >= maxClients) return plain(res, 503, 'Too many event stream clients; try again later.', { ...cors, 'retry-after': 10 })

    res.writeHead(200, { ...STREAM_HEADERS, ...cors })
    if (method === 'HEAD') {
      res.end()
      return
    }
    res.socket?.setNoDelay(true)
    // Written to the socket as soon as possible so the browser sees the stream open.
    res.flushHeaders()

    clients.set(res, { overSince: 0 })
    const gone = () => clients.delete(res)
    res.on('close', gone)
    res.on('error', gone)
    req.on('error', () => {})
    send(res, Buffer.concat(opening(lastEventId(req))))
  }

  /**
   * What a new stream starts with: the retry hint, then what the client missed since
   * `seen`, or `dx:resync` when that is gone (or too much to send: a refresh is cheaper).
   * A stream that replays nothing gets an id-only message with the current position, so
   * a client that has seen no event yet can still resume after a blip.
   */
  function opening(seen: string | undefined): Buffer[] {
    const position = () => Buffer.from(sseFrame({ id: ring.last()?.id ?? startId }))
    if (seen === undefined) return [hello, position()]
    const seq = seen === startId ? 0 : ring.seqOf(seen)
    if (seq !== undefined && seq >= ring.oldest - 1) {
      const missed = ring.after(seq)
      let bytes = 0
      for (const f of missed) bytes += f.length
      if (bytes <= maxBuffered / 2) return [hello, ...missed]
    }
    return [hello, resync, position()]
  }

  function close() {
    if (closed) return
    closed = true
    unsubscribe()
    clearInterval(heartbeat)
    for (const res of clients.keys()) res.end()
    clients.clear()
  }

  return {
    handle,
    clients: () => clients.size,
    get dropped() {
      return dropped
    },
    close,
  }
}
