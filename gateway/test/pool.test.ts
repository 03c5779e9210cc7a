// The gateway's upstream connection pool against a replica scripted byte by byte: framing of
// what it sends, every way an answer can be framed, socket reuse, and what it refuses.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { CLOSED, UpstreamPool, type UpstreamHandler, type UpstreamRequest } from '../src/proxy/pool.js'

type Got = { status: number; headers: string[]; body: Buffer; error?: NodeJS.ErrnoException; connected: boolean }

/** A replica that answers each request head it reads with what `answer` returns, on the same socket. */
async function replica(answer: (request: string, socket: Socket, n: number) => string | Buffer | undefined) {
  const requests: string[] = []
  let connections = 0
  const server: Server = createServer((socket) => {
    connections++
    let buf = ''
    socket.on('data', (d) => {
      buf += d.toString('latin1')
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end === -1) return
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        const request = buf.slice(0, end + 4 + length)
        buf = buf.slice(end + 4 + length)
        requests.push(request)
        const out = answer(request, socket, requests.length)
        if (out !== undefined) socket.write(out)
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  servers.push(server)
  return { url: new URL(`http://127.0.0.1:${port}`), requests, connections: () => connections }
}
const servers: Server[] = []
after(() => servers.forEach((s) => s.close()))

/** One exchange through the pool, collected; `stall` makes it ask for a pause on every chunk and never lift it. */
function send(pool: UpstreamPool, req: Partial<UpstreamRequest>, opts: { stall?: boolean; onConnect?: (abort: () => void) => void } = {}) {
  return new Promise<Got>((resolve) => {
    const got: Got = { status: 0, headers: [], body: Buffer.alloc(0), connected: false }
    const chunks: Buffer[] = []
    const handler: UpstreamHandler = {
      onConnect(abort) {
        got.connected = true
        opts.onConnect?.(abort)
      },
      onHeaders(status, headers) {
        got.status = status
        got.headers = headers
        return true
      },
      onData(chunk) {
        chunks.push(chunk)
        // A client whose buffer filled with the last chunk: no drain comes after the end.
        return !opts.stall
      },
      onComplete() {
        got.body = Buffer.concat(chunks)
        resolve(got)
      },
      onError(err) {
        got.error = err
        got.body = Buffer.concat(chunks)
        resolve(got)
      },
    }
    pool.dispatch({ method: 'GET', path: '/x', headers: [], body: null, ...req }, handler)
  })
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

test('a kept-alive socket carries one request after another; Host and the body length are set by the pool', async () => {
  const r = await replica(() => ok('hi'))
  const pool = new UpstreamPool(r.url, 4, 1000)
  const a = await send(pool, { headers: ['X-A', '1'] })
  const b = await send(pool, { method: 'POST', path: '/y', body: Buffer.from('abc') })
  const c = await send(pool, { method: 'POST', path: '/z' })
  assert.deepEqual([a.status, a.body.toString(), b.body.toString()], [200, 'hi', 'hi'])
  assert.equal(r.connections(), 1)
  assert.equal(r.requests[0], `GET /x HTTP/1.1\r\nX-A: 1\r\nHost: ${r.url.host}\r\n\r\n`)
  assert.equal(r.requests[1], `POST /y HTTP/1.1\r\nHost: ${r.url.host}\r\nContent-Length: 3\r\n\r\nabc`)
  assert.match(r.requests[2], /^POST \/z HTTP\/1\.1\r\n.*Content-Length: 0\r\n\r\n$/s)
  // The client's own Host goes as it came, once.
  await send(pool, { headers: ['host', 'example.test'] })
  assert.equal(r.requests[3], 'GET /x HTTP/1.1\r\nhost: example.test\r\n\r\n')
  await pool.close()
})

test('a socket paused for a slow client as its answer ended still reads the next answer', async () => {
  const r = await replica(() => ok('small'))
  const pool = new UpstreamPool(r.url, 1, 1000)
  const first = await send(pool, {}, { stall: true })
  assert.equal(first.body.toString(), 'small')
  const second = await Promise.race([send(pool, {}), new Promise<undefined>((res) => setTimeout(res, 2000))])
  assert.ok(second, 'the second request on the same socket got no answer')
  assert.equal(second.body.toString(), 'small')
  assert.equal(r.connections(), 1)
  await pool.close()
})

test('at most `max` sockets; the rest wait their turn, in order', async () => {
  const held: Socket[] = []
  const r = await replica((req, socket) => {
    held.push(socket)
    return undefined
  })
  const pool = new UpstreamPool(r.url, 2, 1000)
  const all = Array.from({ length: 5 }, (_, i) => send(pool, { path: `/${i}` }))
  await new Promise((res) => setTimeout(res, 200))
  assert.equal(r.connections(), 2)
  assert.equal(r.requests.length, 2)
  // Answering one lets the next in line through, on the same socket.
  const answerAll = setInterval(() => held.splice(0).forEach((s) => s.write(ok('done'))), 20)
  const got = await Promise.all(all)
  clearInterval(answerAll)
  assert.deepEqual(got.map((g) => g.body.toString()), ['done', 'done', 'done', 'done', 'done'])
  assert.deepEqual(r.requests.map((q) => q.split(' ')[1]), ['/0', '/1', '/2', '/3', '/4'])
  assert.equal(r.connections(), 2)
  await pool.close()
})

test('every framing of an answer: chunked, until close, HEAD, 204, and 1xx before it', async () => {
  const r = await replica((req, socket) => {
    const path = req.split(' ')[1]
    if (path === '/chunked') return 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'
    if (path === '/close') {
      socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end')
      return undefined
    }
    if (path === '/head') return 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n'
    if (path === '/204') return 'HTTP/1.1 204 No Content\r\n\r\n'
    if (path === '/1xx') return 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n' + ok('after')
    return ok('?')
  })
  const pool = new UpstreamPool(r.url, 1, 1000)
  assert.equal((await send(pool, { path: '/chunked' })).body.toString(), 'abcde')
  const closed = await send(pool, { path: '/close' })
  assert.deepEqual([closed.status, closed.body.toString(), closed.error], [200, 'until the end', undefined])
  const head = await send(pool, { method: 'HEAD', path: '/head' })
  assert.deepEqual([head.status, head.body.length], [200, 0])
  assert.equal((await send(pool, { path: '/204' })).status, 204)
  const info = await send(pool, { path: '/1xx' })
  assert.deepEqual([info.status, info.body.toString()], [200, 'after'])
  // The HEAD answer's announced 50 bytes were not waited for: the socket went on.
  assert.equal(r.connections(), 2)
  await pool.close()
})

test('bytes after the answer: delivered to no one, and the socket is not used again', async () => {
  const r = await replica((req, _s, n) => (n === 1 ? ok('first') + ok('') : n === 2 ? ok('second') + 'garbage' : ok('third')))
  const pool = new UpstreamPool(r.url, 1, 1000)
  const a = await send(pool, {})
  assert.deepEqual([a.body.toString(), a.error], ['first', undefined])
  const b = await send(pool, {})
  assert.deepEqual([b.body.toString(), b.error], ['second', undefined])
  assert.equal((await send(pool, {})).body.toString(), 'third')
  assert.equal(r.connections(), 3)
  await pool.close()
})

test('a replica that closes a kept-alive socket costs a new connection, not an error; Keep-Alive: timeout is heeded', async () => {
  const r = await replica((_req, socket, n) => {
    if (n === 1) {
      socket.write(ok('one'))
      setTimeout(() => socket.end(), 20)
      return undefined
    }
    return ok('two', 'Keep-Alive: timeout=1\r\n')
  })
  const pool = new UpstreamPool(r.url, 1, 1000)
  assert.equal((await send(pool, {})).body.toString(), 'one')
  await new Promise((res) => setTimeout(res, 100))
  assert.equal((await send(pool, {})).body.toString(), 'two')
  assert.equal(r.connections(), 2)
  // timeout=1 leaves no margin: that socket is not reused.
  await new Promise((res) => setTimeout(res, 10))
  assert.equal((await send(pool, {})).body.toString(), 'two')
  assert.equal(r.connections(), 3)
  await pool.close()
})

test('errors: refused before connecting, closed before the answer, a garbled answer, an upgrade to a plain request', async () => {
  const gone = await replica(() => undefined)
  const port = gone.url.port
  await new Promise<void>((res) => servers.pop()!.close(() => res()))
  const refused = await send(new UpstreamPool(new URL(`http://127.0.0.1:${port}`), 1, 1000), {})
  assert.deepEqual([refused.error?.code, refused.connected], ['ECONNREFUSED', false])

  const r = await replica((req, socket) => {
    const path = req.split(' ')[1]
    if (path === '/hangup') return void socket.end()
    if (path === '/garbage') return 'SMTP ready\r\n\r\n'
    if (path === '/upgrade') return 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
    if (path === '/half') {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')
      return undefined
    }
    return ok('fine')
  })
  const pool = new UpstreamPool(r.url, 1, 1000)
  const hangup = await send(pool, { path: '/hangup' })
  assert.deepEqual([hangup.error?.code, hangup.connected], [CLOSED, true])
  assert.equal((await send(pool, { path: '/garbage' })).error?.code, 'DX_UPSTREAM_PARSE')
  assert.equal((await send(pool, { path: '/upgrade' })).error?.code, 'DX_UPSTREAM_UPGRADE')
  const half = await send(pool, { path: '/half' })
  assert.deepEqual([half.status, half.body.toString(), half.error?.code], [200, 'abc', CLOSED])
  assert.equal((await send(pool, {})).body.toString(), 'fine')
  await pool.close()
})

test('abort: before sending, nothing goes out and the socket serves the next; mid-answer, the socket is dropped', async () => {
  const r = await replica((req, socket) => {
    if (req.includes('/slow')) {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart')
      return undefined
    }
    return ok('fine')
  })
  const pool = new UpstreamPool(r.url, 1, 1000)
  await send(pool, {})
  let settled = false
  void send(pool, { path: '/never' }, { onConnect: (abort) => abort() }).then(() => (settled = true))
  assert.equal((await send(pool, {})).body.toString(), 'fine')
  assert.equal(settled, false, 'an aborted exchange hears nothing more')
  assert.deepEqual(r.requests.map((q) => q.split(' ')[1]), ['/x', '/x'])

  let abort: () => void = () => {}
  void send(pool, { path: '/slow' }, { onConnect: (a) => (abort = a) })
  await new Promise((res) => setTimeout(res, 100))
  abort()
  assert.equal((await send(pool, {})).body.toString(), 'fine')
  assert.equal(r.connections(), 2)
  await pool.close()
})

test('close() lets what is in flight finish; destroy() ends what is left with an error', async () => {
  const held: Socket[] = []
  const r = await replica((_req, socket) => void held.push(socket))
  const pool = new UpstreamPool(r.url, 1, 1000)
  const first = send(pool, {})
  const queued = send(pool, {})
  await new Promise((res) => setTimeout(res, 100))
  const closed = pool.close()
  held.shift()!.write(ok('finished'))
  assert.equal((await first).body.toString(), 'finished')
  await new Promise((res) => setTimeout(res, 50))
  held.shift()!.write(ok('also'))
  assert.equal((await queued).body.toString(), 'also')
  await closed
  assert.equal((await send(pool, {})).error?.code, CLOSED, 'nothing new once closing')

  const pool2 = new UpstreamPool(r.url, 1, 1000)
  const inFlight = send(pool2, {})
  const waiting = send(pool2, {})
  await new Promise((res) => setTimeout(res, 100))
  pool2.destroy()
  assert.deepEqual([(await inFlight).error?.code, (await waiting).error?.code], [CLOSED, CLOSED])
})

test('header values pass byte for byte, latin1 both ways', async () => {
  const r = await replica(() => Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nX-Name: caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\nContent-Length: 0\r\n\r\n')]))
  const pool = new UpstreamPool(r.url, 1, 1000)
  const got = await send(pool, { headers: ['X-Sent', Buffer.from('né').toString('latin1')] })
  assert.equal(Buffer.from(got.headers[1], 'latin1').toString('utf8'), 'café')
  assert.ok(r.requests[0].includes(`X-Sent: ${Buffer.from('né').toString('latin1')}`))
  await pool.close()
})

test('an https:// replica: spoken to over TLS, its certificate checked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-pool-tls-'))
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')])
  if (made.status !== 0) return t.skip(`openssl could not make a test certificate: ${made.error?.message ?? made.stderr}`)
  const cert = readFileSync(join(dir, 'cert.pem'))
  const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => res.end(`secure ${req.url} ${req.headers.host}`))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const origin = new URL(`https://localhost:${(server.address() as { port: number }).port}`)
  const trusted = new UpstreamPool(origin, 1, 1000, { ca: cert })
  const got = await send(trusted, {})
  assert.equal(got.body.toString(), `secure /x ${origin.host}`)
  await trusted.close()
  // A certificate no CA vouches for: no request goes out.
  const untrusted = await send(new UpstreamPool(origin, 1, 1000), {})
  assert.equal(untrusted.connected, false)
  assert.match(untrusted.error?.code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY/)
})
