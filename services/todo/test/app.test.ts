import assert from 'node:assert/strict'
import { test } from 'node:test'
import { todoService } from '../src/app.js'
import { openSqliteStore } from '../src/store-sqlite.js'

function setup() {
  const { app } = todoService(openSqliteStore(':memory:'))
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
  assert.match(page, /\/assets\/app\.[0-9a-f]{8}\.css/)
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

test('GET /todo/list: the list and its count alone, which refresh themselves on the todo events', async () => {
  const { app, send } = setup()
  await send('POST', '/todo/items', { text: 'milk <b>now</b>' })
  await send('POST', '/todo/items', { text: 'bread' })
  await send('PATCH', '/todo/items/2', { done: 'true' })
  const r = await app.request('/todo/list', { headers: { 'hx-request': 'true' } })
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type')!, /^text\/html/)
  assert.equal(r.headers.get('hx-trigger'), null, 'a read emits no event')
  const list = await r.text()
  assert.doesNotMatch(list, /<html|<form|data-dx-widget/)
  assert.match(list, /^<div id="todo-items"/)
  const open = list.slice(0, list.indexOf('>') + 1)
  assert.match(open, /hx-get="\/todo\/list"/)
  assert.match(open, /hx-swap="outerHTML"/)
  assert.match(open, /hx-trigger="todo:added from:body delay:50ms, todo:updated from:body delay:50ms, todo:removed from:body delay:50ms, dx:resync from:body delay:50ms"/)
  // A newer refresh replaces one in flight; the buttons inside do not inherit that.
  assert.match(open, /hx-sync="this:replace" hx-disinherit="hx-sync"/)
  assert.match(list, /data-todo-id="1"[\s\S]*milk &lt;b&gt;now&lt;\/b&gt;[\s\S]*data-todo-id="2"/)
  assert.match(list, /1 of 2 left/)

  // The widget holds the same fragment, under the form, which the refresh leaves alone.
  const widget = await (await app.request('/todo')).text()
  assert.ok(widget.includes(list), 'the widget embeds the list fragment as is')
  assert.ok(widget.indexOf('<form') < widget.indexOf('id="todo-items"'))
  assert.equal(widget.match(/hx-trigger=/g)?.length, 1, 'only the list listens for events')
})

test('the actions keep answering with the whole widget, list included (one request, one update)', async () => {
  const { send } = setup()
  const added = await (await send('POST', '/todo/items', { text: 'milk' })).text()
  assert.match(added, /data-dx-widget="todo"[\s\S]*<form[\s\S]*id="todo-items"[\s\S]*data-todo-id="1"/)
  // The buttons set their own target and swap, and no hx-sync of their own.
  const button = /<button[^>]*hx-patch="\/todo\/items\/1"[^>]*>/.exec(added)![0]
  assert.match(button, /hx-target="closest \.dx-widget" hx-swap="outerHTML"/)
  assert.doesNotMatch(button, /hx-sync/)
})
