// A service under `make watch` (DX_DEV=1) lets its pages follow the runner's reload stream;
// without it, nothing of that is in any answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { html } from 'hono/html'
import { contentSecurityPolicy } from '../src/security.js'
import { createService } from '../src/service.js'

async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) x === undefined ? delete process.env[k] : (process.env[k] = x)
  }
  set(vars)
  try {
    return await fn()
  } finally {
    set(old)
  }
}

async function standalone() {
  const svc = createService({ name: 'demo', title: 'Demo' })
  svc.app.get('/', (c) => c.html(svc.page(html`<p>page</p>`)))
  const page = await svc.app.request('/')
  const script = await svc.app.request('/assets/dev-reload.js')
  return { csp: page.headers.get('content-security-policy') ?? '', body: await page.text(), script: script.status }
}

test('the CSP adds the dev origin to connect-src only when given one', () => {
  const connect = (csp: string) => /connect-src ([^;]*)/.exec(csp)![1]
  assert.equal(connect(contentSecurityPolicy(['http://gw:1'], undefined)), "'self' http://gw:1")
  assert.equal(connect(contentSecurityPolicy(['http://gw:1'], 'http://localhost:4090')), "'self' http://gw:1 http://localhost:4090")
  assert.equal(connect(contentSecurityPolicy([], 'http://localhost:4090')), "'self' http://localhost:4090")
})

test('without DX_DEV: the page, its CSP and the assets carry nothing of the dev stream', async () => {
  const r = await withEnv({ DX_DEV: undefined, DX_DEV_URL: 'http://localhost:5998', DX_GATEWAY_URL: 'http://gw.test:1' }, standalone)
  assert.match(r.csp, /connect-src 'self' http:\/\/gw\.test:1(;|$)/)
  assert.doesNotMatch(r.csp + r.body, /5998|dx-dev|dev-reload/)
  assert.equal(r.script, 404)
})

test('with DX_DEV=1: connect-src allows the dev origin, the page links the script, the script is served', async () => {
  const r = await withEnv({ DX_DEV: '1', DX_DEV_URL: 'http://localhost:5998', DX_GATEWAY_URL: 'http://gw.test:1' }, standalone)
  assert.match(r.csp, /connect-src 'self' http:\/\/gw\.test:1 http:\/\/localhost:5998(;|$)/)
  assert.match(r.csp, /script-src 'self'(;|$)/, 'scripts still only from the page\'s own origin')
  assert.match(r.body, /<meta name="dx-dev" content="http:\/\/localhost:5998" \/>/)
  assert.match(r.body, /src="\/assets\/dev-reload\.(?:[0-9a-f]{8}\.)?js"/)
  assert.equal(r.script, 200)
})

test('the gateway\'s page headers carry no dev origin without DX_DEV', async () => {
  await withEnv({ DX_DEV: undefined }, async () => {
    const { pageHeaders } = await import('../../../gateway/src/fallback.js')
    assert.doesNotMatch(pageHeaders['content-security-policy'], /4090|localhost/)
  })
})
