import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assets, assetUrl, fillTemplate, layoutTemplate, MARKERS } from '../src/index.js'

test('the layout template: every marker in place, assets from the gateway at their hashed URLs', async () => {
  const t = await layoutTemplate()
  assert.match(t, /^<!doctype html>/)
  assert.equal(t.split(MARKERS.slot).length, 2, 'one slot')
  assert.ok(t.includes(`<title>${MARKERS.title}</title>`))
  assert.ok(t.includes(MARKERS.subtitle))
  assert.ok(t.includes(`<meta name="dx-gateway" content="${MARKERS.gateway}" />`))
  assert.ok(t.includes(`href="${MARKERS.gateway}"`), 'the Main app link')
  assert.ok(t.includes(`src="${MARKERS.gateway}${assetUrl('htmx.min.js')}"`))
  assert.ok(t.includes(`src="${MARKERS.gateway}${assetUrl('dx.js')}"`))
  assert.doesNotMatch(t, /dxmarker/, 'no token is left over')
  assert.doesNotMatch(t, /"\/assets\//, 'no asset is linked from the page\'s own origin')
})

test('filling it: text escaped, the slot as given, the gateway without a trailing slash', async () => {
  const page = fillTemplate(await layoutTemplate(), {
    title: 'Clock <&>',
    subtitle: '"quoted"',
    gateway: 'http://localhost:4040/',
    slot: '<div id="mine"><!--dx:title--></div>',
  })
  assert.ok(page.includes('<title>Clock &lt;&amp;&gt;</title>'))
  assert.ok(page.includes('&quot;quoted&quot;'))
  assert.ok(page.includes('<div id="mine"><!--dx:title--></div>'), 'markers inside the slot are not touched')
  assert.ok(page.includes(`href="http://localhost:4040${assetUrl('app.css')}"`))
  assert.doesNotMatch(page, /<!--dx:(gateway|subtitle|slot)-->/)
})

test('GET /assets/layout.html serves the template, no-cache', async () => {
  const r = await assets().request('/assets/layout.html')
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8')
  assert.equal(r.headers.get('cache-control'), 'no-cache')
  assert.equal(await r.text(), await layoutTemplate())
})
