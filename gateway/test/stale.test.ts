// A widget whose service fails shows its last good copy, marked stale, with writes off.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freePort } from '@dx/testkit'
import { gateway, htmx, upstream } from './helpers.js'

test('a widget read that fails gets the last good copy, marked stale; a write keeps its error', async () => {
  const port = await freePort()
  let up = await upstream((req, res) => {
    if (req.url === '/svc/private') return void res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'private' }).end('<p>mine</p>')
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<form hx-post="/svc/items"><button>Add</button></form><ul><li>milk</li></ul>')
  }, port)
  const gw = await gateway([up.url])
  assert.equal((await fetch(`${gw.url}/svc`, { headers: htmx })).status, 200)
  assert.equal((await fetch(`${gw.url}/svc/private`, { headers: htmx })).status, 200)
  await up.close()

  const r = await fetch(`${gw.url}/svc`, { headers: htmx })
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('x-dx-fallback'), 'stale')
  const body = await r.text()
  assert.match(body, /Svc is unavailable right now\.<\/span> This is a saved copy from/)
  assert.match(body, /<li>milk<\/li>/)
  assert.match(body, /<fieldset[^>]*disabled/)
  assert.match(body, /hx-get="\/svc"[^>]*hx-trigger="load delay:3s"|hx-trigger="load delay:3s"[^>]*hx-get="\/svc"/)

  // Nothing cached for a private answer, nor for a navigation: the fallback and the error page.
  const priv = await fetch(`${gw.url}/svc/private`, { headers: htmx })
  assert.notEqual(priv.headers.get('x-dx-fallback'), 'stale')
  assert.match(await priv.text(), /Svc is unavailable right now<\/p>/)
  assert.ok([502, 503].includes((await fetch(`${gw.url}/svc`)).status), 'a navigation gets the error page')
  const w = await fetch(`${gw.url}/svc/items`, { method: 'POST', headers: htmx, body: 'a=1' })
  assert.ok([502, 503].includes(w.status), 'a write keeps a real error')
  assert.equal(w.headers.get('x-dx-fallback') === 'stale', false)

  // Back: the live fragment again, and the copy is refreshed from it.
  up = await upstream((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<ul><li>live again</li></ul>'), port)
  let live = ''
  for (let i = 0; i < 40 && !live.includes('live again'); i++) {
    live = await (await fetch(`${gw.url}/svc`, { headers: htmx })).text()
    if (!live.includes('live again')) await new Promise((res) => setTimeout(res, 100))
  }
  assert.equal(live, '<ul><li>live again</li></ul>')
  await gw.close()
  await up.close()
})
