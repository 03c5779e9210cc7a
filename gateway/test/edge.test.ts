// The gateway as an attacker sees it: raw bytes in over `net`, and the raw bytes the
// upstream really receives checked on the other side.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { freePort, sleep } from '@dx/testkit'
import { gateway } from './helpers.js'
import { chunked, headersOf, raw, recordingUpstream, statuses, type Recorder } from './raw.js'

const SMUGGLED = 'GET /svc/_dx/manifest HTTP/1.1\r\nHost: x\r\n\r\n'
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

let up: Recorder
let gw: Awaited<ReturnType<typeof gateway>>
before(async () => {
  up = await recordingUpstream()
  gw = await gateway([up.url], 'response_timeout_ms = 400\nbody_idle_timeout_ms = 300', 'body_limit_bytes = 1000')
})
after(async () => {
  await gw.close()
  await up.close()
})

/** Sends raw bytes, returns the reply and what the upstream received. */
async function through(bytes: Array<string | ((s: string) => boolean)>) {
  up.reset()
  const reply = await raw(gw.port, bytes)
  await sleep(30)
  return { reply, requests: [...up.requests], rawUp: up.rawText() }
}

describe('request smuggling: a body is framed once, by the gateway', () => {
  for (const method of METHODS) {
    test(`${method} with a chunked body that hides a second request`, async () => {
      const body = SMUGGLED
      const { reply, requests, rawUp } = await through([
        `${method} /svc/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(body)}`,
      ])
      assert.deepEqual(statuses(reply), [200])
      // One request upstream, its body the hidden bytes as data, framed by an exact length.
      assert.equal(requests.length, 1, rawUp)
      assert.equal(requests[0].url, '/svc/a')
      assert.equal(requests[0].body.toString(), body)
      assert.equal(requests[0].headers['content-length'], String(Buffer.byteLength(body)))
      assert.equal(requests[0].headers['transfer-encoding'], undefined)
      assert.doesNotMatch(rawUp, /transfer-encoding/i)
    })
    test(`${method} with a Content-Length body that hides a second request`, async () => {
      const { reply, requests } = await through([`${method} /svc/b HTTP/1.1\r\nHost: x\r\nContent-Length: ${SMUGGLED.length}\r\nConnection: close\r\n\r\n${SMUGGLED}`])
      assert.deepEqual(statuses(reply), [200])
      assert.equal(requests.length, 1)
      assert.equal(requests[0].body.toString(), SMUGGLED)
    })
  }

  test('DELETE and OPTIONS without a body get no Content-Length upstream; POST gets 0', async () => {
    for (const [method, want] of [['DELETE', undefined], ['OPTIONS', undefined], ['POST', '0']] as const) {
      const { requests } = await through([`${method} /svc/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`])
      assert.equal(requests.length, 1)
      assert.equal(requests[0].headers['content-length'], want, method)
    }
  })

  // Framing the gateway cannot read one way only: refused before anything goes upstream.
  const ambiguous: Array<[string, string]> = [
    ['Content-Length and Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked'],
    ['two different Content-Lengths', 'Content-Length: 5\r\nContent-Length: 6'],
    ['a Content-Length list', 'Content-Length: 5, 6'],
    ['a non-numeric Content-Length', 'Content-Length: 5x'],
    ['a negative Content-Length', 'Content-Length: -1'],
    ['Transfer-Encoding not ending in chunked', 'Transfer-Encoding: chunked, identity'],
    ['an unknown Transfer-Encoding', 'Transfer-Encoding: xchunked'],
    ['a Transfer-Encoding with a space before the colon', 'Transfer-Encoding : chunked'],
    ['an obs-folded Transfer-Encoding', 'X-A: 1\r\n chunked\r\nTransfer-Encoding: chunked'],
    ['a bare LF line ending', 'Content-Length: 5\nTransfer-Encoding: chunked'],
  ]
  for (const [name, headers] of ambiguous) {
    test(`${name}: 400, and nothing reaches the upstream`, async () => {
      const { reply, rawUp } = await through([`POST /svc/d HTTP/1.1\r\nHost: x\r\n${headers}\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`])
      assert.deepEqual(statuses(reply), [400], reply)
      assert.equal(rawUp, '')
    })
  }

  test('pipelined requests stay two requests, each framed on its own', async () => {
    const { reply, requests } = await through([
      `POST /svc/p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /svc/p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ])
    assert.deepEqual(statuses(reply), [200, 200])
    // Answered in order; upstream they are two requests, in whatever order they were sent.
    assert.match(reply, /ok POST \/svc\/p1 3[\s\S]*ok GET \/svc\/p2 0/)
    const seen = requests.map((r) => `${r.method} ${r.url} ${r.body}`).sort()
    assert.deepEqual(seen, ['GET /svc/p2 ', 'POST /svc/p1 abc'])
  })

  test('protocol paths are not reached, also percent-encoded', async () => {
    for (const path of ['/svc/_dx/events', '/svc/%5Fdx/events', '/svc/_DX/events', '/svc/%2e%2e/_dx/manifest', '/svc/a%2f..%2f_dx']) {
      const { reply, rawUp } = await through([`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`])
      assert.ok([400, 404].includes(statuses(reply)[0]), `${path}: ${reply}`)
      assert.equal(rawUp, '', path)
    }
  })

  test('request targets that are not a plain path never crash the gateway', async () => {
    for (const target of ['//a:99999/svc/x', 'http://a:99999/svc/x', '*', '/svc/%zz', '/svc/\u00ff']) {
      const { reply } = await through([`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`])
      assert.match(reply, /^HTTP\/1\.1 [2-5]\d\d/, target)
    }
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200)
  })
})

describe('Expect is answered by the gateway', () => {
  test('100-continue: the gateway says continue, reads the body, and the upstream never sees Expect', async () => {
    const { reply, requests } = await through([
      'POST /svc/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      (s) => s.includes('100 Continue'),
      'hello',
    ])
    assert.deepEqual(statuses(reply), [100, 200])
    assert.equal(requests[0].body.toString(), 'hello')
    assert.equal(requests[0].headers.expect, undefined)
  })

  test('100-continue with a body over the limit: 413 at once, no 100, nothing upstream', async () => {
    const { reply, rawUp } = await through(['PUT /svc/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n'])
    assert.deepEqual(statuses(reply), [413])
    assert.equal(rawUp, '')
  })

  test('an unknown expectation gets 417', async () => {
    const { reply, rawUp } = await through(['POST /svc/e HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: teapot\r\nConnection: close\r\n\r\nx'])
    assert.deepEqual(statuses(reply), [417])
    assert.equal(rawUp, '')
  })

  test('100-continue keeps the response timeout: a hanging service ends in 504, not a hang', async () => {
    const hang = await recordingUpstream(() => {})
    const g = await gateway([hang.url], 'response_timeout_ms = 300')
    const t0 = Date.now()
    const reply = await raw(g.port, ['POST /svc/e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n', (s) => s.includes('100'), 'hi'], 1000)
    assert.deepEqual(statuses(reply), [100, 504])
    assert.ok(Date.now() - t0 < 3000)
    await g.close()
    await hang.close()
  })
})

describe('header hygiene', () => {
  test('hop-by-hop and Connection-named headers stay at the gateway', async () => {
    const { requests } = await through([
      'GET /svc/h HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret, x-other\r\nX-Secret: s\r\nX-Other: o\r\nKeep-Alive: 5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-Kept: k\r\n\r\n',
    ])
    const h = requests[0].headers
    for (const k of ['x-secret', 'x-other', 'keep-alive', 'te', 'proxy-authorization']) assert.equal(h[k], undefined, k)
    assert.equal(h['x-kept'], 'k')
  })

  test("the client's forwarding claims are replaced by what the gateway saw", async () => {
    const { requests } = await through([
      'GET /svc/f HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Dx-Actor: admin\r\nX-Dx-Client: page-1\r\nConnection: close\r\n\r\n',
    ])
    const h = requests[0].headers
    assert.equal(h['x-forwarded-for'], '127.0.0.1')
    assert.equal(h['x-forwarded-host'], 'shop.example')
    assert.equal(h['x-forwarded-proto'], 'http')
    assert.equal(h.host, 'shop.example')
    for (const k of ['forwarded', 'x-real-ip', 'x-dx-actor']) assert.equal(h[k], undefined, k)
    assert.equal(h['x-dx-client'], 'page-1')
  })

  test('with trust_forwarded, a proxy in front is appended to, once, also across a retry', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const g = await gateway([dead, up.url], '', 'trust_forwarded = true')
    up.reset()
    await raw(g.port, ['GET /svc/t HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host: app.example\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n'])
    await raw(g.port, ['GET /svc/t HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n'])
    assert.equal(up.requests.length, 2)
    for (const r of up.requests) assert.equal(r.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1')
    assert.equal(up.requests[0].headers['x-forwarded-host'], 'app.example')
    assert.equal(up.requests[0].headers['x-forwarded-proto'], 'https')
    await g.close()
  })

  test('headers the upstream names in Connection do not reach the client', async () => {
    const u = await recordingUpstream((_q, res) => {
      res.writeHead(200, { connection: 'X-Internal', 'x-internal': 'secret', 'x-public': 'p' })
      res.end('ok')
    })
    const g = await gateway([u.url])
    const reply = await raw(g.port, ['GET /svc/r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])
    const h = headersOf(reply)
    assert.equal(h['x-internal'], undefined)
    assert.equal(h['x-public'], 'p')
    await g.close()
    await u.close()
  })

  test('Upgrade: h2c is plain HTTP: proxied as such, without the upgrade', async () => {
    const { reply, requests } = await through([
      'POST /svc/u HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 4\r\n\r\nbody',
    ])
    assert.deepEqual(statuses(reply), [200])
    assert.match(reply, /ok POST \/svc\/u 4/)
    const h = requests[0].headers
    assert.equal(h.upgrade, undefined)
    assert.equal(h['http2-settings'], undefined)
  })
})

describe('body limits hold for every method', () => {
  for (const method of METHODS) {
    test(`${method}: a declared body over the limit gets 413 and nothing goes upstream`, async () => {
      const { reply, rawUp } = await through([`${method} /svc/l HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n${'x'.repeat(1001)}`])
      assert.deepEqual(statuses(reply), [413])
      assert.equal(rawUp, '')
    })
  }

  test('a chunked body that grows past the limit gets 413 and nothing goes upstream', async () => {
    const { reply, rawUp } = await through([`POST /svc/l HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked('y'.repeat(600), 'y'.repeat(600))}`])
    assert.deepEqual(statuses(reply), [413])
    assert.match(reply, /limit is 1000 bytes/)
    assert.equal(rawUp, '')
  })

  test('600 concurrent over-limit uploads hold no upstream socket; a normal request is then served in under 1 s', async () => {
    up.reset()
    const attacks = Array.from({ length: 600 }, (_, i) =>
      raw(
        gw.port,
        [
          i % 2
            ? `POST /svc/big HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n${'z'.repeat(4000)}`
            : `POST /svc/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked('z'.repeat(800), 'z'.repeat(800))}`,
          (reply) => reply.includes('\r\n\r\n'),
        ],
        50,
        10_000,
      ),
    )
    const replies = await Promise.all(attacks)
    const codes = replies.map((r) => statuses(r)[0])
    assert.deepEqual(codes.filter((c) => c !== 413), [], 'every upload is refused with 413')
    assert.equal(up.requests.length, 0)
    const t0 = Date.now()
    const r = await fetch(`${gw.url}/svc/normal`, { signal: AbortSignal.timeout(1000) })
    assert.equal(r.status, 200)
    assert.ok(Date.now() - t0 < 1000)
  })

  test('slow uploads hold no upstream socket while they trickle in', async () => {
    up.reset()
    const pooled = up.openSockets() // idle keep-alive sockets from earlier tests
    const socks = Array.from({ length: 200 }, () => {
      const s = connect(gw.port, '127.0.0.1')
      s.on('error', () => {})
      s.write('POST /svc/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nabc')
      return s
    })
    await sleep(300)
    assert.ok(up.openSockets() <= pooled, `${up.openSockets()} upstream sockets, ${pooled} before`)
    assert.equal(up.requests.length, 0)
    const r = await fetch(`${gw.url}/svc/normal`, { signal: AbortSignal.timeout(1000) })
    assert.equal(r.status, 200)
    for (const s of socks) s.destroy()
  })
})

describe('every wait is bounded', () => {
  test('an upstream that stalls mid-body is cut off after the idle timeout, and its socket released', async () => {
    let upstreamClosed = false
    const stall = await recordingUpstream((req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('only part of it')
      req.socket.once('close', () => (upstreamClosed = true))
    })
    const g = await gateway([stall.url], 'body_idle_timeout_ms = 300')
    const t0 = Date.now()
    const reply = await raw(g.port, ['GET /svc/s HTTP/1.1\r\nHost: x\r\n\r\n'], 2000)
    assert.match(reply, /only part of it$/)
    assert.ok(Date.now() - t0 < 1500, 'cut off, not held')
    await sleep(50)
    assert.ok(upstreamClosed)
    await g.close()
    await stall.close()
  })

  test('a full pool: time queued for a socket counts against the connect timeout', async () => {
    const hang = await recordingUpstream(() => {})
    const g = await gateway([hang.url], 'max_connections = 2\nconnect_timeout_ms = 200\nresponse_timeout_ms = 5000')
    const stuck = [1, 2].map(() => fetch(`${g.url}/svc/hang`).catch(() => undefined))
    await sleep(100)
    const t0 = Date.now()
    const r = await fetch(`${g.url}/svc/widget`, { headers: { 'hx-request': 'true' } })
    assert.equal(r.headers.get('x-dx-fallback'), 'connect-timeout')
    assert.ok(Date.now() - t0 < 1500)
    await g.close()
    await hang.close()
    await Promise.all(stuck)
  })
})
