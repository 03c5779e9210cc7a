import assert from 'node:assert/strict'
import { test } from 'node:test'
import { html } from 'hono/html'
import { sign } from '../src/events.js'
import { createService } from '../src/service.js'

/** A service made with these env values; `calls` counts what reached the write handler. */
function demo(env: Record<string, string | undefined> = {}) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]
  let svc: ReturnType<typeof createService>
  try {
    svc = createService({ name: 'demo', title: 'Demo' })
  } finally {
    // Also when createService throws, so that a bad value does not leak into the next test.
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v)
  }
  const calls: string[] = []
  svc.app.get('/', (c) => c.html(svc.page(html`<p>page</p>`)))
  svc.app.post('/demo/items', async (c) => {
    calls.push(await c.req.text())
    return c.text('stored')
  })
  return { app: svc.app, calls }
}

const post = (headers: Record<string, string>, body = 'x=1') => ({ method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } })

test('HTML answers carry the page policy, with the gateway in connect-src; every answer is nosniff', async () => {
  const { app } = demo({ DX_GATEWAY_URL: 'http://gateway.test:8080/' })
  const page = await app.request('/')
  assert.match(page.headers.get('content-security-policy')!, /connect-src 'self' http:\/\/gateway\.test:8080(;|$)/)
  assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/)
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
  assert.equal(page.headers.get('referrer-policy'), 'same-origin')
  assert.equal(page.headers.get('x-frame-options'), 'DENY')
  const html = await page.text()
  assert.match(html, /<link rel="icon" href="\/assets\/favicon\.[0-9a-f]{8}\.svg" type="image\/svg\+xml" \/>/)
  assert.match(html, /href="http:\/\/gateway\.test:8080\/">Main app/)

  for (const path of ['/healthz', '/_dx/manifest', '/assets/dx.js', '/no/such/page']) {
    const r = await app.request(path)
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path)
    assert.equal(r.headers.get('content-security-policy'), null, path)
  }
})

test('the htmx config keeps htmx within the CSP: no indicator <style>, no eval', async () => {
  const { app } = demo()
  const html = await (await app.request('/')).text()
  const meta = /<meta name="htmx-config" content="([^"]+)"/.exec(html)![1]!.replaceAll('&quot;', '"')
  const config = JSON.parse(meta) as Record<string, unknown>
  assert.equal(config.includeIndicatorStyles, false)
  assert.equal(config.allowEval, false)
})

test('the icon is served at /assets/favicon.svg and /favicon.ico', async () => {
  const { app } = demo()
  const svg = await app.request('/assets/favicon.svg')
  assert.equal(svg.status, 200)
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml')
  const body = await svg.text()
  assert.match(body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  const ico = await app.request('/favicon.ico')
  assert.equal(ico.headers.get('content-type'), 'image/svg+xml')
  assert.equal(await ico.text(), body)
  assert.equal((await app.request('/assets/constructor')).status, 404)
})

test('a write from another site is refused with 403 and never reaches the handler', async () => {
  const { app, calls } = demo({ DX_GATEWAY_URL: 'http://localhost:4040', DX_ALLOWED_ORIGINS: 'https://admin.example' })
  const evil = await app.request('http://127.0.0.1:4001/demo/items', post({ origin: 'https://evil.example' }))
  assert.equal(evil.status, 403)
  assert.match(await evil.text(), /^Cross-site request refused: a POST from https:\/\/evil\.example may not change data here\.$/)
  const fetchMeta = await app.request('http://127.0.0.1:4001/demo/items', post({ 'sec-fetch-site': 'cross-site' }))
  assert.equal(fetchMeta.status, 403)
  assert.equal(fetchMeta.headers.get('x-content-type-options'), 'nosniff')
  assert.deepEqual(calls, [])

  const ok: Array<Record<string, string>> = [
    { origin: 'http://127.0.0.1:4001', 'sec-fetch-site': 'same-origin' },
    { origin: 'http://127.0.0.1:4001' },
    { origin: 'http://localhost:4040', 'sec-fetch-site': 'same-site' },
    { origin: 'https://admin.example', 'sec-fetch-site': 'cross-site' },
    {},
  ]
  for (const headers of ok) {
    const r = await app.request('http://127.0.0.1:4001/demo/items', post({ host: '127.0.0.1:4001', ...headers }))
    assert.equal(r.status, 200, JSON.stringify(headers))
  }
  assert.equal(calls.length, ok.length)
})

test('events from other services (signed, no Origin) still get through', async (t) => {
  const { app } = demo()
  const secret = process.env.DX_EVENT_SECRET
  process.env.DX_EVENT_SECRET = 'test-secret'
  t.after(() => (secret === undefined ? delete process.env.DX_EVENT_SECRET : (process.env.DX_EVENT_SECRET = secret)))
  const body = JSON.stringify({ id: 'e1', name: 'todo:added', detail: {}, source: 'todo', time: new Date().toISOString() })
  const headers = { 'content-type': 'application/json', 'x-dx-signature': sign(body, 'test-secret') }
  const r = await app.request('/_dx/events', { method: 'POST', body, headers })
  assert.equal(r.status, 200)
})

test('bodies over the limit get 413 naming it, before the handler reads them; DX_BODY_LIMIT_BYTES sets it', async () => {
  const { app, calls } = demo({ DX_BODY_LIMIT_BYTES: '100' })
  const big = await app.request('/demo/items', post({}, 'y'.repeat(101)))
  assert.equal(big.status, 413)
  assert.equal(await big.text(), 'Request body too large: this service accepts at most 100 bytes.')
  const events = await app.request('/_dx/events', post({}, 'y'.repeat(101)))
  assert.equal(events.status, 413)

  // No Content-Length: counted as the chunks arrive.
  const chunks = (n: number) =>
    new ReadableStream({
      start(ctl) {
        for (let i = 0; i < n; i++) ctl.enqueue(new TextEncoder().encode('z'.repeat(30)))
        ctl.close()
      },
    })
  const streamed = await app.request('/demo/items', { method: 'POST', body: chunks(4), duplex: 'half' } as RequestInit)
  assert.equal(streamed.status, 413)
  assert.deepEqual(calls, [])
  const fits = await app.request('/demo/items', { method: 'POST', body: chunks(3), duplex: 'half' } as RequestInit)
  assert.equal(fits.status, 200)
  assert.deepEqual(calls, ['z'.repeat(90)])
  assert.equal((await app.request('/demo/items', post({}, 'y'.repeat(100)))).status, 200)
})

test('the default limit is 1 MiB; a bad DX_BODY_LIMIT_BYTES stops the start', async () => {
  const { app } = demo({ DX_BODY_LIMIT_BYTES: undefined })
  assert.equal((await app.request('/demo/items', post({}, 'y'.repeat(1024 * 1024)))).status, 200)
  const over = await app.request('/demo/items', post({}, 'y'.repeat(1024 * 1024 + 1)))
  assert.equal(over.status, 413)
  assert.match(await over.text(), /at most 1048576 bytes/)
  assert.throws(() => demo({ DX_BODY_LIMIT_BYTES: '1MB' }), /DX_BODY_LIMIT_BYTES must be a positive whole number of bytes, got "1MB"/)
})

test('the standalone page names the gateway for dx.js (its event stream)', async () => {
  const { app } = demo({ DX_GATEWAY_URL: 'http://gateway.test:8080' })
  const html = await (await app.request('/')).text()
  assert.match(html, /<meta name="dx-gateway" content="http:\/\/gateway\.test:8080" \/>/)
})
