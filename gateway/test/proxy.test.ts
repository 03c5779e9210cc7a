import assert from 'node:assert/strict'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { after, describe, test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { freePort, sleep } from '@dx/testkit'
import { gateway, htmx, upstream } from './helpers.js'

describe('proxying to a live upstream', async () => {
  const seen: Array<{ method?: string; url?: string; headers: Record<string, unknown>; body: string }> = []
  const up = await upstream((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body })
      if (req.url === '/svc/boom') return void res.writeHead(500).end('upstream broke')
      res.writeHead(200, {
        'content-type': 'text/html',
        'HX-Trigger': '{"svc:done": {"id": 7}}',
        'HX-Trigger-After-Swap': 'svc:swapped, svc:other',
        'HX-Trigger-After-Settle': '{broken',
      })
      res.end(`<p>${req.method} ${req.url} ${body.length}</p>`)
    })
  })
  const gw = await gateway([up.url], '', 'body_limit_bytes = 1000')
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('forwards the path unchanged with X-Forwarded-* and without hop-by-hop headers', async () => {
    const r = await fetch(`${gw.url}/svc/items/3?x=1`, { headers: { 'X-Custom': 'a', 'Proxy-Authorization': 'secret', 'TE': 'trailers' } })
    assert.equal(r.status, 200)
    assert.equal(await r.text(), '<p>GET /svc/items/3?x=1 0</p>')
    const h = seen.at(-1)!.headers
    assert.equal(h['x-custom'], 'a')
    assert.equal(h['x-forwarded-for'], '127.0.0.1')
    assert.equal(h['x-forwarded-proto'], 'http')
    assert.equal(h['x-forwarded-host'], `127.0.0.1:${gw.port}`)
    assert.equal(h['proxy-authorization'], undefined)
    assert.equal(h['te'], undefined)
  })

  test('streams POST and DELETE bodies', async () => {
    const r = await fetch(`${gw.url}/svc/items`, { method: 'POST', body: 'text=hello' })
    assert.equal(await r.text(), '<p>POST /svc/items 10</p>')
    const d = await fetch(`${gw.url}/svc/items/1`, { method: 'DELETE' })
    assert.equal(await d.text(), '<p>DELETE /svc/items/1 0</p>')
  })

  test('HX-Trigger headers reach the browser unchanged and are parsed as events', async () => {
    gw.events.length = 0
    // On a request, HX-Trigger is the id of the triggering element, not an event.
    const r = await fetch(`${gw.url}/svc/x`, { headers: { ...htmx, 'HX-Trigger': 'my-button' } })
    assert.equal(r.headers.get('hx-trigger'), '{"svc:done": {"id": 7}}')
    assert.equal(r.headers.get('hx-trigger-after-swap'), 'svc:swapped, svc:other')
    assert.equal(r.headers.get('hx-trigger-after-settle'), '{broken')
    assert.deepEqual(gw.events, [
      {
        service: 'svc',
        events: [
          { name: 'svc:done', detail: { id: 7 } },
          { name: 'svc:swapped', detail: null },
          { name: 'svc:other', detail: null },
        ],
      },
    ])
  })

  test('413 with a message for a body over the limit, declared or streamed', async () => {
    const r = await fetch(`${gw.url}/svc/items`, { method: 'POST', body: 'x'.repeat(5000) })
    assert.equal(r.status, 413)
    assert.match(await r.text(), /limit is 1000 bytes/)
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.url}/svc/items`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      for (let i = 0; i < 10; i++) req.write('y'.repeat(500))
      req.end()
    })
    assert.equal(chunked, 413)
    // the gateway still serves
    assert.equal((await fetch(`${gw.url}/svc/ok`)).status, 200)
  })

  test('an upstream 5xx: htmx GET gets the fallback, a write keeps its status', async () => {
    const g = await fetch(`${gw.url}/svc/boom`, { headers: htmx })
    assert.equal(g.status, 200)
    assert.equal(g.headers.get('x-dx-fallback'), 'upstream-5xx')
    assert.match(await g.text(), /Svc is unavailable right now<\/p>/)
    const p = await fetch(`${gw.url}/svc/boom`, { method: 'POST', headers: htmx, body: 'a=1' })
    assert.equal(p.status, 500)
    assert.equal(p.headers.get('x-dx-fallback'), 'upstream-5xx')
  })

  test('protocol paths and dot-segments are not proxied', async () => {
    const before = seen.length
    assert.equal((await fetch(`${gw.url}/svc/_dx/events`, { method: 'POST', body: '{}' })).status, 404)
    const r = await new Promise<number>((resolve) =>
      // a raw path: URL parsing would resolve the dot-segment before it is sent
      request({ host: '127.0.0.1', port: gw.port, path: '/svc/../_dx/manifest' }, (res) => resolve(res.statusCode!)).end(),
    )
    assert.equal(r, 400)
    assert.equal(seen.length, before)
  })
})

describe('WebSocket upgrades', async () => {
  const up = await upstream((_req, res) => res.end('http'))
  const wss = new WebSocketServer({ server: up.server })
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo ${req.url} ${m}`)))
  const gw = await gateway([up.url])
  after(async () => {
    await gw.close()
    wss.close()
    await up.close()
  })

  test('echo through the gateway', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/svc/ws?room=a`)
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)))
    ws.send('hello')
    const msg = await new Promise<Buffer>((r) => ws.once('message', (data) => r(data as Buffer)))
    assert.equal(msg.toString(), 'echo /svc/ws?room=a hello')
    ws.close()
  })

  test("a page on another origin may not open a socket; the gateway's own origin may", async () => {
    const foreign = new WebSocket(`ws://127.0.0.1:${gw.port}/svc/ws`, { origin: 'https://evil.example' })
    const err = await new Promise<Error>((r) => foreign.once('error', r))
    assert.match(err.message, /403/)
    const own = new WebSocket(`ws://127.0.0.1:${gw.port}/svc/ws`, { origin: `http://127.0.0.1:${gw.port}` })
    await new Promise((r, j) => (own.once('open', r), own.once('error', j)))
    own.close()
  })

  test('an upgrade for a service that is down fails the handshake without killing the gateway', async () => {
    const dead = await gateway([`http://127.0.0.1:${await freePort()}`])
    const ws = new WebSocket(`ws://127.0.0.1:${dead.port}/svc/ws`)
    const err = await new Promise<Error>((r) => ws.once('error', r))
    assert.match(err.message, /502|Unexpected server response/)
    assert.equal((await fetch(`${dead.url}/healthz`)).status, 200)
    await dead.close()
  })
})

describe('a dead or slow upstream', () => {
  test('refused: htmx GET gets the fallback fragment within 1 s', async () => {
    const gw = await gateway([`http://127.0.0.1:${await freePort()}`])
    const r = await fetch(`${gw.url}/svc`, { headers: htmx, signal: AbortSignal.timeout(1000) })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-dx-fallback'), 'refused')
    assert.match(r.headers.get('vary') ?? '', /HX-Request/)
    const body = await r.text()
    assert.match(body, /Svc is unavailable right now<\/p>/)
    assert.match(body, /Technical detail: connection refused\./)
    assert.match(body, /hx-get="\/svc" hx-trigger="load delay:3s"/)
    await gw.close()
  })

  test('refused: a navigation gets a 502 error page, a write keeps 502', async () => {
    const gw = await gateway([`http://127.0.0.1:${await freePort()}`])
    const nav = await fetch(`${gw.url}/svc/page`)
    assert.equal(nav.status, 502)
    const page = await nav.text()
    assert.match(page, /<html[\s\S]*<h1[^>]*>Svc is unavailable right now<\/h1>/)
    assert.match(page, /Error 502\. Technical detail: connection refused\./)
    // The replica that just refused is passed over for a moment: this write finds none usable.
    const w = await fetch(`${gw.url}/svc/items`, { method: 'POST', headers: htmx, body: 'text=x' })
    assert.ok([502, 503].includes(w.status), String(w.status))
    assert.ok(['refused', 'unavailable'].includes(w.headers.get('x-dx-fallback')!))
    assert.match(await w.text(), /your change was not saved/)
    await gw.close()
  })

  test('no upstream configured: 503 for writes, fallback for reads', async () => {
    const gw = await gateway([])
    assert.equal((await fetch(`${gw.url}/svc`, { headers: htmx })).headers.get('x-dx-fallback'), 'no-upstream')
    assert.equal((await fetch(`${gw.url}/svc/x`, { method: 'DELETE', headers: htmx })).status, 503)
    await gw.close()
  })

  test('hanging upstream: fallback after the response timeout, 504 for a write', async () => {
    const hang = await upstream(() => {})
    const gw = await gateway([hang.url], 'response_timeout_ms = 300')
    const t0 = Date.now()
    const r = await fetch(`${gw.url}/svc`, { headers: htmx })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-dx-fallback'), 'timeout')
    assert.ok(Date.now() - t0 >= 290)
    const w = await fetch(`${gw.url}/svc/items`, { method: 'POST', headers: htmx, body: 'x' })
    assert.equal(w.status, 504)
    // It reached the service, which may have acted on it: never "not saved".
    const text = await w.text()
    assert.match(text, /may or may not have been saved\. Check before you try again\. \(no answer in time\)/)
    assert.doesNotMatch(text, /not saved/)
    const nav = await fetch(`${gw.url}/svc`)
    assert.equal(nav.status, 504)
    await gw.close()
    await hang.close()
  })

  test('an answer that is not HTTP: the fallback for a read, 502 for a navigation, and the socket is dropped', async () => {
    let connections = 0
    const liar = createServer((s) => {
      connections++
      s.on('data', () => s.write('SMTP ready\r\n\r\n'))
      s.on('error', () => {})
    })
    const port = await new Promise<number>((r) => liar.listen(0, '127.0.0.1', () => r((liar.address() as { port: number }).port)))
    const gw = await gateway([`http://127.0.0.1:${port}`])
    const r = await fetch(`${gw.url}/svc`, { headers: htmx, signal: AbortSignal.timeout(2000) })
    assert.equal(r.status, 200)
    assert.ok(['upstream-error', 'connection-lost'].includes(r.headers.get('x-dx-fallback')!), r.headers.get('x-dx-fallback')!)
    const nav = await fetch(`${gw.url}/svc/page`, { signal: AbortSignal.timeout(2000) })
    assert.equal(nav.status, 502)
    assert.equal(connections, 2, 'a socket that spoke garbage is not reused')
    await gw.close()
    liar.close()
  })

  test('recovers on its own when the upstream comes back', async () => {
    const port = await freePort()
    const gw = await gateway([`http://127.0.0.1:${port}`])
    assert.equal((await fetch(`${gw.url}/svc`, { headers: htmx })).headers.get('x-dx-fallback'), 'refused')
    const up = await upstream((_q, s) => s.end('<p>back</p>'), port)
    // the refusing replica is skipped for at most a second, then tried again
    let body = ''
    for (let i = 0; i < 30 && body !== '<p>back</p>'; i++) {
      body = await (await fetch(`${gw.url}/svc`, { headers: htmx })).text()
      if (body !== '<p>back</p>') await sleep(100)
    }
    assert.equal(body, '<p>back</p>')
    await gw.close()
    await up.close()
  })

  test('a read goes to the next replica when one refuses', async () => {
    const up = await upstream((_q, s) => s.end('alive'))
    const gw = await gateway([`http://127.0.0.1:${await freePort()}`, up.url])
    for (let i = 0; i < 4; i++) assert.equal(await (await fetch(`${gw.url}/svc`)).text(), 'alive')
    await gw.close()
    await up.close()
  })

  test('still serves after 1000 requests to a dead upstream', async () => {
    const gw = await gateway([`http://127.0.0.1:${await freePort()}`])
    for (let i = 0; i < 10; i++) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          fetch(`${gw.url}/svc/x${j}`, { method: j % 2 ? 'GET' : 'POST', headers: htmx, body: j % 2 ? undefined : 'a' }).then(async (r) => {
            await r.arrayBuffer()
            return r.status
          }),
        ),
      )
      assert.ok(batch.every((s) => s === 200 || s === 502 || s === 503), String(batch))
    }
    const h = await fetch(`${gw.url}/healthz`)
    assert.deepEqual(await h.json(), { status: 'ok', bus: 'connected' })
    assert.equal((await fetch(`${gw.url}/`)).status, 200)
    await gw.close()
  })
})

test('a client that goes away aborts the upstream request', async () => {
  let upstreamClosed: () => void
  const closed = new Promise<void>((r) => (upstreamClosed = r))
  const slow = await upstream((req) => req.socket.once('close', () => upstreamClosed()))
  const gw = await gateway([slow.url])
  const ac = new AbortController()
  const pending = fetch(`${gw.url}/svc/slow`, { signal: ac.signal }).catch(() => 'aborted')
  await sleep(100)
  ac.abort()
  assert.equal(await pending, 'aborted')
  await closed
  await gw.close()
  await slow.close()
})
