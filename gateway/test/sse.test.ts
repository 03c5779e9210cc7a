import { test } from 'node:test'
import v8 from 'node:v8'
import vm from 'node:vm'
import assert from 'node:assert/strict'
import { createServer, request, type IncomingMessage } from 'node:http'
import { connect as netConnect } from 'node:net'
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import { memoryBus, type Bus } from '@dx/bus'
import { makeEnvelope, type Envelope, type Logger } from '@dx/kit'
import { createSseHub, sseFrame, type SseHubOptions } from '../src/events/sse.js'
import { listen } from './helpers.js'

// Node's runner gives each test file its own process: exposing the collector here touches
// no other file. The memory test collects before it reads RSS, so that what it measures is
// what is kept, not garbage V8 has not got round to.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} }

type Msg = { id: string; event: string; data: string }

/** A hub on a plain server, as the gateway mounts it at `/_dx/events`. */
async function hubServer(o: Partial<SseHubOptions> = {}) {
  const bus = memoryBus()
  const hub = createSseHub({ bus, log: quiet, allowedOrigins: new Set(['http://localhost:4001']), ...o })
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] === '/_dx/events') return hub.handle(req, res)
    res.writeHead(404).end()
  })
  const port = await listen(server)
  const close = async () => {
    hub.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
    await bus.close()
  }
  return { bus, hub, server, port, close }
}

async function publish(bus: Bus, name: string, detail: unknown = null, extra: Partial<Envelope> = {}): Promise<Envelope> {
  const env = { ...makeEnvelope({ name, detail, source: name.split(':')[0] }), ...extra }
  await bus.publish(`dx.events.${name}`, env)
  return env
}

/** A streaming SSE reader, per the spec: fields, multi-line data, comments, CR/LF/CRLF. */
function parser(onMessage: (m: Msg) => void, onComment: (c: string) => void = () => {}) {
  let buf = ''
  let data: string[] = []
  let event = ''
  let id = ''
  return (chunk: string) => {
    buf += chunk
    const re = /\r\n|\r|\n/g
    let start = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(buf))) {
      if (m[0] === '\r' && m.index === buf.length - 1) break
      const line = buf.slice(start, m.index)
      start = re.lastIndex
      if (line === '') {
        if (data.length > 0) onMessage({ id, event: event || 'message', data: data.join('\n') })
        data = []
        event = ''
        continue
      }
      if (line.startsWith(':')) {
        onComment(line.slice(1).trimStart())
        continue
      }
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'data') data.push(value)
      else if (field === 'event') event = value
      else if (field === 'id') id = value
    }
    buf = buf.slice(start)
  }
}

/** An open stream: its response, the messages and comments so far, and a way to wait for more. */
async function open(port: number, o: { path?: string; headers?: Record<string, string> } = {}) {
  const messages: Msg[] = []
  const comments: string[] = []
  let raw = ''
  let wake = () => {}
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: o.path ?? '/_dx/events', headers: o.headers }, resolve)
    req.on('error', reject)
    req.end()
  })
  res.setEncoding('utf8')
  const feed = parser(
    (m) => messages.push(m),
    (c) => comments.push(c),
  )
  res.on('data', (chunk: string) => {
    raw += chunk
    feed(chunk)
    wake()
  })
  res.on('error', () => {})
  const until = async (done: () => boolean, what: string, ms = 3000) => {
    const deadline = Date.now() + ms
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(raw.slice(-500))}`)
      await new Promise<void>((r) => {
        wake = r
        setTimeout(r, 50)
      })
    }
  }
  /** The id a reader has seen last (id-only messages included). */
  const lastId = () => {
    const ids = [...raw.matchAll(/^id: (.*)$/gm)]
    return ids.length ? ids[ids.length - 1][1] : ''
  }
  return { res, messages, comments, raw: () => raw, until, lastId, close: () => res.destroy() }
}

test('sseFrame: one data line per line of the value, CR, LF and CRLF alike; a blank line ends it', () => {
  assert.equal(sseFrame({ id: '1', event: 'todo:added', data: '{"a":1}' }), 'id: 1\nevent: todo:added\ndata: {"a":1}\n\n')
  assert.equal(sseFrame({ data: 'a\nb\r\nc\rd' }), 'data: a\ndata: b\ndata: c\ndata: d\n\n')
  assert.equal(sseFrame({ data: '' }), 'data: \n\n')
  assert.equal(sseFrame({ data: 'x\n' }), 'data: x\ndata: \n\n')
  assert.equal(sseFrame({ comment: 'ping' }), ': ping\n\n')
  assert.equal(sseFrame({ retry: 2000 }), 'retry: 2000\n\n')
  // A value cannot smuggle a field or end the message early.
  const evil = sseFrame({ event: 'x:y', data: 'ok\n\nevent: admin:pwned\r\ndata: gotcha' })
  assert.equal(evil, 'event: x:y\ndata: ok\ndata: \ndata: event: admin:pwned\ndata: data: gotcha\n\n')
  assert.equal(evil.indexOf('\n\n'), evil.length - 2)
  const seen: Msg[] = []
  parser((m) => seen.push(m))(evil)
  assert.deepEqual(seen, [{ id: '', event: 'x:y', data: 'ok\n\nevent: admin:pwned\ndata: gotcha' }])
  // Names and ids are single lines, or nothing is written.
  assert.throws(() => sseFrame({ id: 'a\nb' }))
  assert.throws(() => sseFrame({ event: 'a\rb' }))
  assert.throws(() => sseFrame({ id: 'a\0b' }))
})

test('a client receives each event with its id, name and envelope; headers as specified', async (t) => {
  const h = await hubServer()
  t.after(h.close)
  const c = await open(h.port)
  assert.equal(c.res.statusCode, 200)
  assert.equal(c.res.headers['content-type'], 'text/event-stream; charset=utf-8')
  assert.equal(c.res.headers['cache-control'], 'no-store')
  assert.equal(c.res.headers['x-accel-buffering'], 'no')
  assert.equal(c.res.headers['x-content-type-options'], 'nosniff')
  assert.equal(c.res.headers['access-control-allow-origin'], undefined)
  await c.until(() => c.raw().includes('retry: 2000\n'), 'the retry hint')
  assert.ok(c.raw().startsWith('retry: 2000\n\n'))
  assert.equal(h.hub.clients(), 1)

  const env = await publish(h.bus, 'todo:added', { id: 3, text: 'line one\nline two' }, { client: 'page-1234abcd', actor: 'ann' })
  await c.until(() => c.messages.length === 1, 'the event')
  assert.equal(c.messages[0].id, env.id)
  assert.equal(c.messages[0].event, 'todo:added')
  assert.deepEqual(JSON.parse(c.messages[0].data), env)
  c.close()
  await waitFor(() => h.hub.clients() === 0, 'the hub to forget the client')
})

test('bad envelopes are skipped, never streamed: names outside service:verb, ids with line breaks', async (t) => {
  const h = await hubServer()
  t.after(h.close)
  const c = await open(h.port)
  await h.bus.publish('dx.events.todo:added', { ...makeEnvelope({ name: 'todo:added', detail: null, source: 'todo' }), id: 'a\nevent: x' })
  await h.bus.publish('dx.events.bad', { ...makeEnvelope({ name: 'todo:added', detail: null, source: 'todo' }), name: 'bad\nname' })
  await h.bus.publish('dx.events.x', 'not an envelope')
  const good = await publish(h.bus, 'news:favorited', { id: 1 })
  await c.until(() => c.messages.length >= 1, 'the good event')
  await sleep(50)
  assert.deepEqual(
    c.messages.map((m) => m.id),
    [good.id],
  )
})

test('reconnecting with Last-Event-ID or ?lastEventId= gives exactly what was missed, in order; an unknown id gives dx:resync', async (t) => {
  const h = await hubServer({ bufferSize: 5 })
  t.after(h.close)
  const a = await open(h.port)
  const first = await publish(h.bus, 'todo:added', { n: 0 })
  await a.until(() => a.messages.length === 1, 'the first event')
  a.close()

  const missed: Envelope[] = []
  for (let n = 1; n <= 3; n++) missed.push(await publish(h.bus, 'todo:added', { n }))

  for (const how of ['header', 'query'] as const) {
    const b =
      how === 'header'
        ? await open(h.port, { headers: { 'last-event-id': first.id } })
        : await open(h.port, { path: `/_dx/events?lastEventId=${encodeURIComponent(first.id)}` })
    await b.until(() => b.messages.length === missed.length, `the missed events (${how})`)
    assert.deepEqual(
      b.messages.map((m) => JSON.parse(m.data)),
      missed,
      how,
    )
    // Then live events, and nothing else.
    const live = await publish(h.bus, 'todo:removed', { how })
    await b.until(() => b.messages.length === missed.length + 1, `the live event (${how})`)
    assert.equal(b.messages[missed.length].id, live.id)
    assert.ok(!b.raw().includes('dx:resync'))
    b.close()
    // The next one reconnects from the same id, so it has missed this one too.
    missed.push(live)
  }

  // Up to date: nothing is replayed.
  let latest = await publish(h.bus, 'todo:added', { n: 'newest' })
  const d = await open(h.port, { headers: { 'last-event-id': latest.id } })
  await d.until(() => d.raw().includes('retry:'), 'the opening')
  await sleep(50)
  assert.equal(d.messages.length, 0)
  d.close()

  // Gone from the buffer (it keeps 5) or never seen: resync, then live events.
  for (const id of [first.id, 'no-such-id']) {
    const e = await open(h.port, { headers: { 'last-event-id': id } })
    await e.until(() => e.messages.length === 1, 'dx:resync')
    assert.deepEqual(e.messages[0], { id: '', event: 'dx:resync', data: '{}' })
    // The id-only message after it says where the client now stands.
    await e.until(() => e.lastId() === latest.id, 'the position')
    latest = await publish(h.bus, 'chat:joined', { id })
    await e.until(() => e.messages.length === 2, 'a live event after the resync')
    assert.equal(e.messages[1].id, latest.id)
    e.close()
  }
})

test('a client that connected before any event resumes from the start after a blip', async (t) => {
  const h = await hubServer()
  t.after(h.close)
  const a = await open(h.port)
  await a.until(() => a.lastId() !== '', 'the position')
  const position = a.lastId()
  a.close()
  const one = await publish(h.bus, 'todo:added', 1)
  const two = await publish(h.bus, 'todo:added', 2)
  const b = await open(h.port, { path: `/_dx/events?lastEventId=${encodeURIComponent(position)}` })
  await b.until(() => b.messages.length === 2, 'both events')
  assert.deepEqual(
    b.messages.map((m) => m.id),
    [one.id, two.id],
  )
  b.close()
})

test('a replay too large to send at once becomes dx:resync', async (t) => {
  const h = await hubServer({ maxBufferedBytes: 8 * 1024 })
  t.after(h.close)
  const a = await open(h.port)
  const first = await publish(h.bus, 'news:favorited', 'x')
  await a.until(() => a.messages.length === 1, 'the event')
  a.close()
  for (let i = 0; i < 10; i++) await publish(h.bus, 'news:favorited', 'y'.repeat(1000))
  const b = await open(h.port, { headers: { 'last-event-id': first.id } })
  await b.until(() => b.messages.length === 1, 'dx:resync')
  assert.equal(b.messages[0].event, 'dx:resync')
  b.close()
})

test('a heartbeat comment arrives', async (t) => {
  const h = await hubServer({ heartbeatMs: 50 })
  t.after(h.close)
  const c = await open(h.port)
  await c.until(() => c.comments.includes('ping'), 'a ping')
  assert.match(c.raw(), /\n: ping\n\n/)
  c.close()
})

test('CORS: an allowed Origin is echoed with Vary: Origin; another gets no CORS header; no credentials', async (t) => {
  const h = await hubServer()
  t.after(h.close)
  const ok = await open(h.port, { headers: { origin: 'http://localhost:4001' } })
  assert.equal(ok.res.headers['access-control-allow-origin'], 'http://localhost:4001')
  assert.match(String(ok.res.headers.vary), /origin/i)
  assert.equal(ok.res.headers['access-control-allow-credentials'], undefined)
  ok.close()
  for (const origin of ['http://evil.example', 'null', 'http://localhost:4002']) {
    const no = await open(h.port, { headers: { origin } })
    assert.equal(no.res.headers['access-control-allow-origin'], undefined, origin)
    no.close()
  }
  // A preflight (a page that sends Last-Event-ID itself) is answered for allowed origins only.
  const pre = await fetch(`http://127.0.0.1:${h.port}/_dx/events`, {
    method: 'OPTIONS',
    headers: { origin: 'http://localhost:4001', 'access-control-request-method': 'GET', 'access-control-request-headers': 'last-event-id' },
  })
  assert.equal(pre.status, 204)
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:4001')
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /last-event-id/)
  const foreign = await fetch(`http://127.0.0.1:${h.port}/_dx/events`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } })
  assert.equal(foreign.headers.get('access-control-allow-origin'), null)
  assert.equal((await fetch(`http://127.0.0.1:${h.port}/_dx/events`, { method: 'POST', body: 'x' })).status, 405)
})

test('the client cap answers 503; close() ends every stream and refuses new ones', async (t) => {
  const h = await hubServer({ maxClients: 2 })
  t.after(h.close)
  const a = await open(h.port)
  const b = await open(h.port)
  const c = await fetch(`http://127.0.0.1:${h.port}/_dx/events`)
  assert.equal(c.status, 503)
  assert.equal(h.hub.clients(), 2)
  const ended = Promise.all([a, b].map((s) => new Promise((r) => s.res.on('end', r))))
  h.hub.close()
  await ended
  assert.equal(h.hub.clients(), 0)
  assert.equal((await fetch(`http://127.0.0.1:${h.port}/_dx/events`)).status, 503)
  // Unsubscribed: publishing reaches nobody and throws nothing.
  await publish(h.bus, 'todo:added')
})

test('a burst does not drop a client that reads', async (t) => {
  const h = await hubServer()
  t.after(h.close)
  let count = 0
  const c = await open(h.port)
  const feed = parser(() => count++)
  c.res.removeAllListeners('data')
  c.res.on('data', (chunk: string) => feed(chunk))
  const detail = 'x'.repeat(1000)
  // 300 KiB in one tick: far over 64 KiB before the socket can flush any of it.
  await Promise.all(Array.from({ length: 300 }, () => publish(h.bus, 'news:favorited', detail)))
  await waitFor(() => count === 300, 'all 300 events').catch((e) => {
    throw new Error(`${e.message}: got ${count}, dropped ${h.hub.dropped}, clients ${h.hub.clients()}`)
  })
  assert.equal(h.hub.dropped, 0)
  assert.equal(h.hub.clients(), 1)
  c.close()
})

test('a client that does not read is dropped, and memory stays flat', async (t) => {
  const h = await hubServer({ slowClientGraceMs: 200 })
  t.after(h.close)
  const detail = 'z'.repeat(1000)
  /** ~1 KiB events in batches, letting the sockets work in between as a real bus would. */
  const flood = async (n: number, each: () => void = () => {}) => {
    for (let sent = 0; sent < n; sent += 200) {
      for (let i = 0; i < 200; i++) await publish(h.bus, 'news:favorited', detail)
      await tick()
      each()
    }
  }
  // The same work once with no client, so that V8's heap has grown to its working size
  // before RSS is taken.
  await flood(20_000)

  // Sends its request, then never reads: the kernel's buffers fill, then the hub's.
  const socket = netConnect({ host: '127.0.0.1', port: h.port })
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  await new Promise<void>((r) => socket.once('connect', () => r()))
  socket.write('GET /_dx/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  socket.pause()
  await waitFor(() => h.hub.clients() === 1, 'the stream to open')

  // 50,000 events are ~60 MB: held for that client, they take RSS 45 to 65 MB up here
  // (cut-off disabled); with the cut-off it does not move.
  gc()
  const before = process.memoryUsage().rss
  let peak = before
  let batches = 0
  await flood(50_000, () => {
    if (++batches % 25 === 0) gc()
    peak = Math.max(peak, process.memoryUsage().rss)
  })
  assert.equal(h.hub.dropped, 1)
  assert.equal(h.hub.clients(), 0)
  const growth = (peak - before) / 2 ** 20
  assert.ok(growth < 30, `RSS grew by ${growth.toFixed(1)} MB over 50,000 events`)
})

async function waitFor(done: () => boolean, what: string, ms = 5000) {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
