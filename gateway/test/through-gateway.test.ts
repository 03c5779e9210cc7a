import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startSystem, type System } from '@dx/testkit'

let sys: System
before(async () => {
  sys = await startSystem({ services: ['todo'], dataDir: mkdtempSync(join(tmpdir(), 'dx-gw-')) })
})
after(() => sys?.stop())

const htmx = { 'HX-Request': 'true', 'content-type': 'application/x-www-form-urlencoded' }

test('GET, POST, PATCH and DELETE on the todo service through the gateway', async () => {
  const gw = sys.gateway.url
  const widget = await fetch(`${gw}/todo`, { headers: htmx })
  assert.equal(widget.status, 200)
  assert.match(await widget.text(), /data-dx-widget="todo"/)

  const added = await fetch(`${gw}/todo/items`, { method: 'POST', headers: htmx, body: 'text=buy+milk' })
  assert.equal(added.status, 200)
  const trigger = JSON.parse(added.headers.get('hx-trigger')!)
  assert.equal(trigger['todo:added'].text, 'buy milk')
  const id = trigger['todo:added'].id
  assert.match(await added.text(), /buy milk/)

  const done = await fetch(`${gw}/todo/items/${id}`, { method: 'PATCH', headers: htmx, body: 'done=true' })
  assert.equal(done.status, 200)
  assert.match(await done.text(), /line-through/)

  const removed = await fetch(`${gw}/todo/items/${id}`, { method: 'DELETE', headers: htmx })
  assert.equal(removed.status, 200)
  assert.doesNotMatch(await removed.text(), /buy milk/)

  const invalid = await fetch(`${gw}/todo/items`, { method: 'POST', headers: htmx, body: 'text=' })
  assert.equal(invalid.status, 422)
})

test('the main app comes with every widget in its slot, and the shared assets', async () => {
  const page = await (await fetch(sys.gateway.url)).text()
  assert.match(page, /id="slot-todo"[^>]*>\s*<div class="dx-widget[^"]*" data-dx-widget="todo"/)
  // Only todo runs here: the others' slots hold their fallback, which retries on its own.
  for (const s of ['chat', 'news']) assert.match(page, new RegExp(`id="slot-${s}"[^>]*>\\s*<div class="dx-fallback[^>]*hx-get="/${s}"`))
  for (const a of ['app.css', 'htmx.min.js', 'ws.min.js', 'sse.min.js', 'dx.js']) {
    const r = await fetch(`${sys.gateway.url}/assets/${a}`)
    assert.equal(r.status, 200, a)
  }
  assert.match(await (await fetch(`${sys.gateway.url}/assets/htmx.min.js`)).text(), /htmx/)
})
