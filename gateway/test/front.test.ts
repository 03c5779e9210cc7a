// The front (proxy/front.ts) reads plain service requests on the raw socket and hands
// everything else, with its connection, to Node's http server. Tried from outside with raw
// bytes: each request is answered once, in order, framed right, whichever side reads it.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { sleep } from '@dx/testkit'
import { gateway } from './helpers.js'
import { headersOf, raw, recordingUpstream, statuses, type Recorder } from './raw.js'

let up: Recorder
let gw: Awaited<ReturnType<typeof gateway>>
/** Requests to /svc/slow hang here until the test lets them go. */
const slow: Array<{ end: () => void; closed: Promise<void> }> = []
/** Burst requests (/svc/pNNN) at the upstream at once, now and at most. */
const burst = { now: 0, max: 0 }
before(async () => {
  up = await recordingUpstream((req, res) => {
    if (req.url === '/svc/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('one,')
      return void setTimeout(() => res.end('two'), 20)
    }
    if (req.url === '/svc/empty') return void res.writeHead(204).end()
    if (req.url!.startsWith('/svc/p')) {
      burst.max = Math.max(burst.max, ++burst.now)
      // Answered a little later, later still for even numbers: two in flight would cross.
      return void setTimeout(() => {
        burst.now--
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok GET ${req.url}`)
      }, Number(req.url!.slice(-1)) % 2 === 0 ? 3 : 1)
    }
    if (req.url === '/svc/dated') return void res.writeHead(200, { date: 'Tue, 01 Jan 2030 00:00:00 GMT', 'content-length': 2 }).end('ok')
    if (req.url === '/svc/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first part;')
      const closed = new Promise<void>((r) => res.on('close', () => r()))
      return void slow.push({ end: () => res.end('rest'), closed })
    }
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(`ok ${req.method} ${req.url}`)
  })
  gw = await gateway([up.url], 'response_timeout_ms = 2000\nbody_idle_timeout_ms = 2000', 'client_header_timeout_ms = 600')
})
after(async () => {
  await gw.close()
  await up.close()
})

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`

/** The bodies of a raw reply's answers, in order; `heads` are the answers to HEAD requests. */
function bodies(reply: string, heads = new Set<number>()): string[] {
  const out: string[] = []
  let rest = reply
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n')
    const status = Number(rest.slice(9, 12))
    const h = headersOf(rest.slice(0, end + 4))
    rest = rest.slice(end + 4)
    if (heads.has(out.length) || status === 204 || status === 304) out.push('')
    else if (h['content-length'] !== undefined) {
      const n = Number(h['content-length'])
      out.push(rest.slice(0, n))
      rest = rest.slice(n)
    } else if (h['transfer-encoding'] === 'chunked') {
      let body = ''
      for (;;) {
        const eol = rest.indexOf('\r\n')
        const size = parseInt(rest.slice(0, eol), 16)
        rest = rest.slice(eol + 2)
        if (size === 0) {
          rest = rest.slice(2)
          break
        }
        body += rest.slice(0, size)
        rest = rest.slice(size + 2)
      }
      out.push(body)
    } else out.push(rest)
  }
  return out
}

describe('requests the front reads itself', () => {
  test('an answer is framed as Node frames it: the same head as after a hand-over, Date once, keep-alive', async () => {
    // The first request on a connection is read by the front; after /healthz, Node's server has the connection.
    const front = await raw(gw.port, [get('/svc/a')])
    const node = await raw(gw.port, [get('/healthz'), (s) => statuses(s).length === 1, get('/svc/a')])
    const a = headersOf(front)
    const b = headersOf(node.slice(node.indexOf('HTTP/1.1', 10)))
    delete a.date
    delete b.date
    assert.deepEqual(a, b)
    assert.equal(bodies(front)[0], 'ok GET /svc/a')
    assert.equal(front.match(/^date:/gim)?.length, 1)
    assert.equal(a.connection, 'keep-alive')
    assert.equal(a['keep-alive'], 'timeout=5')
    // A service's own Date is passed on, not doubled.
    const dated = await raw(gw.port, [get('/svc/dated')])
    assert.deepEqual(dated.match(/^date:.*$/gim)?.map((l) => l.toLowerCase()), ['date: tue, 01 jan 2030 00:00:00 gmt'])
  })

  test('pipelined requests are answered in order, also when one in the middle goes to Node', async () => {
    up.reset()
    const reply = await raw(gw.port, [get('/svc/1') + get('/svc/2') + get('/healthz') + get('/svc/3') + 'POST /svc/4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' + get('/svc/5')])
    // (statuses() looks for line starts; the JSON of /healthz ends without a newline.)
    assert.deepEqual([...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), [200, 200, 200, 200, 200, 200])
    const b = bodies(reply)
    assert.deepEqual([b[0], b[1], b[3], b[4], b[5]], ['ok GET /svc/1', 'ok GET /svc/2', 'ok GET /svc/3', 'ok POST /svc/4', 'ok GET /svc/5'])
    assert.ok(b[2].length > 0, 'the gateway\'s own answer')
    // Node's server reads the last two at once (its answers still go in order).
    assert.deepEqual(up.requests.map((r) => `${r.method} ${r.url} ${r.body}`).sort(), ['GET /svc/1 ', 'GET /svc/2 ', 'GET /svc/3 ', 'GET /svc/5 ', 'POST /svc/4 hello'])
  })

  test('a long pipelined burst is sent on one request at a time, answered in order, none lost', async () => {
    up.reset()
    // 400 KiB: more than the front holds before it stops reading. Each request is 1 KiB,
    // so the socket's 64 KiB reads end between requests, and the front reads them all.
    const n = 400
    const one = (i: number) => {
      const bare = get(`/svc/p${String(i).padStart(3, '0')}`, 'X-Pad: \r\n')
      return bare.replace('X-Pad: ', `X-Pad: ${'p'.repeat(1024 - bare.length)}`)
    }
    assert.equal(one(0).length, 1024)
    const bytes = Array.from({ length: n }, (_, i) => one(i)).join('')
    const reply = await raw(gw.port, [bytes, (s) => s.includes(`ok GET /svc/p${n - 1}\r\n0\r\n\r\n`)], 400, 20_000)
    assert.equal(statuses(reply).length, n)
    const b = bodies(reply)
    // One at a time, every answer in the order asked.
    assert.equal(burst.max, 1, 'requests of one connection in flight at once')
    assert.deepEqual(b, Array.from({ length: n }, (_, i) => `ok GET /svc/p${String(i).padStart(3, '0')}`))
    assert.equal(up.requests.length, n)
  })

  test('a head cut across two reads goes to Node whole', async () => {
    up.reset()
    let since = 0
    const later = () => Date.now() - (since ||= Date.now()) >= 100
    const reply = await raw(gw.port, ['GET /svc/sp', later, 'lit HTTP/1.1\r\nHost: x\r\n\r\n'])
    assert.deepEqual(statuses(reply), [200])
    assert.equal(bodies(reply)[0], 'ok GET /svc/split')
  })

  test('HEAD, 204 and a chunked answer are framed so the next answer on the connection is read right', async () => {
    const reply = await raw(gw.port, [get('/svc/dated').replace('GET', 'HEAD'), (s) => statuses(s).length === 1, get('/svc/empty'), (s) => statuses(s).length === 2, get('/svc/chunked'), (s) => /0\r\n\r\n$/.test(s), get('/svc/after')])
    assert.deepEqual(statuses(reply), [200, 204, 200, 200])
    const heads = reply.split(/(?=HTTP\/1\.1 )/)
    assert.equal(headersOf(heads[0])['content-length'], '2')
    assert.ok(heads[0].endsWith('\r\n\r\n'), 'HEAD: no body')
    assert.equal(headersOf(heads[1])['transfer-encoding'], undefined)
    assert.equal(headersOf(heads[2])['transfer-encoding'], 'chunked')
    assert.deepEqual(bodies(reply, new Set([0])), ['', '', 'one,two', 'ok GET /svc/after'])
  })

  test('Connection: close is answered with close, and the connection ends', async () => {
    const reply = await raw(gw.port, [get('/svc/c', 'Connection: close\r\n')], 2000)
    assert.deepEqual(statuses(reply), [200])
    assert.equal(headersOf(reply).connection, 'close')
  })

  test('a client gone mid-answer takes the upstream request with it', async () => {
    const sock = connect(gw.port, '127.0.0.1')
    sock.on('error', () => {})
    let got = ''
    sock.on('data', (d) => (got += d.toString('latin1')))
    sock.write(get('/svc/slow'))
    while (!got.includes('first part;')) await sleep(10)
    sock.destroy()
    // Well before the 2 s body idle timeout.
    const closed = await Promise.race([slow.at(-1)!.closed.then(() => true), sleep(1000).then(() => false)])
    assert.ok(closed, 'the upstream request is closed')
  })
})

describe('connections the front holds are bounded', () => {
  test('a connection that never sends a request is closed after client_header_timeout_ms', async () => {
    const sock: Socket = connect(gw.port, '127.0.0.1')
    sock.on('error', () => {})
    const started = Date.now()
    await new Promise<void>((r) => sock.once('close', () => r()))
    // 600 ms, swept once a second.
    assert.ok(Date.now() - started < 3000)
  })

  test('a kept-alive connection left idle is closed after the keep-alive timeout', async () => {
    const keep = gw.server.keepAliveTimeout
    gw.server.keepAliveTimeout = 500
    try {
      const sock = connect(gw.port, '127.0.0.1')
      let got = ''
      sock.on('data', (d) => (got += d.toString('latin1')))
      sock.write(get('/svc/idle'))
      const started = Date.now()
      await new Promise<void>((r) => sock.once('close', () => r()))
      assert.deepEqual(statuses(got), [200])
      assert.equal(headersOf(got)['keep-alive'], 'timeout=0')
      assert.ok(Date.now() - started < 3000)
    } finally {
      gw.server.keepAliveTimeout = keep
    }
  })

  test('malformed, oversized and Host-less heads get Node\'s 400', async () => {
    assert.deepEqual(statuses(await raw(gw.port, ['GET /svc/x HTTP/1.1\r\nHost x\r\n\r\n'])), [400])
    assert.deepEqual(statuses(await raw(gw.port, [get('/svc/x', `X-Big: ${'a'.repeat(20_000)}\r\n`)])), [400])
    assert.deepEqual(statuses(await raw(gw.port, ['GET /svc/x HTTP/1.1\r\n\r\n'])), [400])
  })
})

describe('draining', () => {
  test('an idle connection is closed at once; one with an answer in flight, once it is whole', async () => {
    const g = await gateway([up.url], 'response_timeout_ms = 2000\nbody_idle_timeout_ms = 2000')
    const idle = connect(g.port, '127.0.0.1')
    let idleGot = ''
    idle.on('data', (d) => (idleGot += d.toString('latin1')))
    idle.write(get('/svc/before'))
    while (statuses(idleGot).length < 1) await sleep(10)
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()))
    const busy = connect(g.port, '127.0.0.1')
    let got = ''
    busy.on('data', (d) => (got += d.toString('latin1')))
    const busyClosed = new Promise<void>((r) => busy.once('close', () => r()))
    busy.write(get('/svc/slow'))
    while (!got.includes('first part;')) await sleep(10)
    const closing = g.close()
    await idleClosed
    slow.at(-1)!.end()
    await busyClosed
    await closing
    assert.equal(bodies(got)[0], 'first part;rest')
  })
})
