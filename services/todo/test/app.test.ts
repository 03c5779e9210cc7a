import assert from 'node:assert/strict'
import { test } from 'node:test'
import { todoService } from '../src/app.js'
import { openStore } from '../src/store.js'

function setup() {
  const { app } = todoService(openStore(':memory:'))
  const form = (body: Record<string, string>) => new URLSearchParams(body).toString()
  const send = (method: string, path: string, body?: Record<string, string>) =>
    app.request(path, {
      method,
      body: body && form(body),
      headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' } : { 'hx-request': 'true' },
    })
  return { app, send }
}

test('the standalone page and the widget fragment', async () => {
  const { app } = setup()
  const page = await (await app.request('/')).text()
  assert.match(page, /^<!doctype html>/)
  assert.match(page, /\/assets\/app\.css/)
  const widget = await (await app.request('/todo')).text()
  assert.doesNotMatch(widget, /<html/)
  assert.match(widget, /data-dx-widget="todo"/)
})

test('adding emits todo:added with id and text; the text is escaped', async () => {
  const { send } = setup()
  const r = await send('POST', '/todo/items', { text: '  <img src=x onerror=alert(1)> ☕ ' })
  assert.equal(r.status, 200)
  assert.deepEqual(JSON.parse(r.headers.get('hx-trigger')!), { 'todo:added': { id: 1, text: '<img src=x onerror=alert(1)> ☕' } })
  const html = await r.text()
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt; ☕/)
  assert.doesNotMatch(html, /<img src=x/)
})

test('empty or too long text: 422, the message, and what was typed', async () => {
  const { send } = setup()
  const empty = await send('POST', '/todo/items', { text: '   ' })
  assert.equal(empty.status, 422)
  assert.match(await empty.text(), /Write something to do first/)
  const long = await send('POST', '/todo/items', { text: 'y'.repeat(501) })
  assert.equal(long.status, 422)
  const html = await long.text()
  assert.match(html, /at most 500/)
  assert.match(html, new RegExp(`value="${'y'.repeat(501)}"`))
  assert.equal(long.headers.get('hx-trigger'), null)
})

test('done, undo and remove emit their events; unknown ids are 404 fragments', async () => {
  const { send } = setup()
  await send('POST', '/todo/items', { text: 'milk' })
  const done = await send('PATCH', '/todo/items/1', { done: 'true' })
  assert.deepEqual(JSON.parse(done.headers.get('hx-trigger')!), { 'todo:updated': { id: 1, text: 'milk', done: true } })
  assert.match(await done.text(), />Undo</)
  const undo = await send('PATCH', '/todo/items/1', { done: 'false' })
  assert.match(await undo.text(), />Done</)
  const removed = await send('DELETE', '/todo/items/1')
  assert.deepEqual(JSON.parse(removed.headers.get('hx-trigger')!), { 'todo:removed': { id: 1, text: 'milk' } })
  for (const [m, p] of [['DELETE', '/todo/items/1'], ['DELETE', '/todo/items/abc'], ['PATCH', '/todo/items/99999999999999999999']] as const) {
    const r = await send(m, p, m === 'PATCH' ? { done: 'true' } : undefined)
    assert.equal(r.status, 404, `${m} ${p}`)
    assert.match(await r.text(), /no longer exists/)
  }
  assert.equal((await send('PATCH', '/todo/items/1', { done: 'maybe' })).status, 400)
})

test('a write from another site gets 403 and stores nothing; this site, the gateway and curl may write', async () => {
  const { app } = setup()
  const add = (text: string, headers: Record<string, string>) =>
    app.request('http://127.0.0.1:4001/todo/items', {
      method: 'POST',
      body: new URLSearchParams({ text }),
      headers: { host: '127.0.0.1:4001', ...headers },
    })
  const forged: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }]
  for (const headers of forged) {
    const r = await add('forged', headers)
    assert.equal(r.status, 403, JSON.stringify(headers))
    assert.match(await r.text(), /^Cross-site request refused/)
    assert.equal(r.headers.get('hx-trigger'), null)
  }
  assert.equal((await add('mine', { origin: 'http://127.0.0.1:4001', 'sec-fetch-site': 'same-origin' })).status, 200)
  assert.equal((await add('via the gateway', { origin: 'http://localhost:4040', 'sec-fetch-site': 'same-site' })).status, 200)
  assert.equal((await add('from curl', {})).status, 200)
  const stored = (await (await app.request('/todo/items')).json()) as Array<{ text: string }>
  assert.deepEqual(stored.map((t) => t.text), ['mine', 'via the gateway', 'from curl'])
})

test('health and manifest follow the protocol', async () => {
  const { app } = setup()
  assert.deepEqual(await (await app.request('/healthz')).json(), { status: 'ok' })
  assert.deepEqual(await (await app.request('/_dx/manifest')).json(), { name: 'todo', prefix: '/todo', widget: '/todo', subscribes: [] })
})
