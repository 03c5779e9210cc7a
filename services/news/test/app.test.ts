import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { fakeStory, startFakeHn, type FakeHn } from '@dx/testkit'
import { newsService } from '../src/app.js'
import { hnClient } from '../src/hn.js'
import { loadSample } from '../src/sample.js'
import { openSqliteStore } from '../src/store-sqlite.js'
import { storySource } from '../src/stories.js'

let fake: FakeHn
before(async () => {
  fake = await startFakeHn()
})
after(() => fake.close())
beforeEach(async () => {
  fake.reset()
  await fake.up()
  fake.setStories(Array.from({ length: 8 }, (_, i) => fakeStory(i + 1)))
  fake.setItem(3, fakeStory(3, { title: 'Café ☕ <b>bold</b>' }))
})

const sample = loadSample()
function setup() {
  const stories = storySource({ client: hnClient({ baseUrl: fake.url, timeoutMs: 1000 }), sample, deadlineMs: 1000 })
  const { app } = newsService({ store: openSqliteStore(':memory:'), stories })
  const send = (method: string, path: string, body?: Record<string, string>) =>
    app.request(path, {
      method,
      body: body && new URLSearchParams(body).toString(),
      headers: { 'hx-request': 'true', ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    })
  return { app, send }
}
const storyIds = (html: string) => [...html.matchAll(/data-story-id="(\d+)"/g)].map((m) => Number(m[1]))

test('standalone page, widget, health and manifest', async () => {
  const { app } = setup()
  const page = await (await app.request('/')).text()
  assert.match(page, /^<!doctype html>/)
  assert.match(page, /\/assets\/app\.[0-9a-f]{8}\.css/)
  assert.match(page, /data-dx-widget="news"/)
  const widget = await (await app.request('/news')).text()
  assert.doesNotMatch(widget, /<html/)
  assert.deepEqual(storyIds(widget), [1, 2, 3, 4, 5])
  assert.deepEqual(await (await app.request('/healthz')).json(), { status: 'ok' })
  assert.deepEqual(await (await app.request('/_dx/manifest')).json(), { name: 'news', prefix: '/news', widget: '/news', subscribes: [] })
})

test('more stories, and 400 with the parameter named for bad numbers', async () => {
  const { send } = setup()
  const more = await (await send('GET', '/news/stories?offset=5&limit=5')).text()
  assert.deepEqual(storyIds(more), [6, 7, 8])
  assert.match(more, /No more stories/)
  for (const [q, name] of [['offset=-1', 'offset'], ['offset=abc', 'offset'], ['limit=1.5', 'limit'], ['limit=0', 'limit']]) {
    const r = await send('GET', `/news/stories?${q}`)
    assert.equal(r.status, 400, q)
    assert.match(await r.text(), new RegExp(`^${name} must be`))
  }
  assert.equal(storyIds(await (await send('GET', '/news/stories?limit=999')).text()).length, 8)
})

test('details of a story; 400 for a bad id and 404 for an unknown one', async () => {
  const { send } = setup()
  const r = await send('GET', '/news/stories/3')
  assert.equal(r.status, 200)
  const html = await r.text()
  assert.match(html, /data-detail-id="3"/)
  assert.match(html, /user3/)
  assert.equal((await send('GET', '/news/stories/abc')).status, 400)
  const missing = await send('GET', '/news/stories/999')
  assert.equal(missing.status, 404)
  assert.match(await missing.text(), /Story #999 was not found/)
})

test('favourite and unfavourite: the button flips out of band and the events carry id and title', async () => {
  const { send } = setup()
  const fav = await send('POST', '/news/favorites', { id: '3' })
  assert.equal(fav.status, 200)
  assert.deepEqual(JSON.parse(fav.headers.get('hx-trigger')!), { 'news:favorited': { id: 3, title: 'Café ☕ <b>bold</b>' } })
  assert.match(fav.headers.get('hx-trigger')!, /^[\x20-\x7e]+$/, 'header-safe')
  assert.match(await fav.text(), /id="news-fav-3"[^>]*hx-swap-oob="true"[^>]*>Unfavourite</)
  const list = await (await send('GET', '/news/favorites')).text()
  assert.match(list, /data-favorite-id="3"/)
  assert.match(list, /Café ☕ &lt;b&gt;bold&lt;\/b&gt;/)
  assert.match(await (await send('GET', '/news')).text(), /id="news-fav-3"[^>]*hx-delete/)

  const unfav = await send('DELETE', '/news/favorites/3')
  assert.deepEqual(JSON.parse(unfav.headers.get('hx-trigger')!), { 'news:unfavorited': { id: 3, title: 'Café ☕ <b>bold</b>' } })
  assert.match(await unfav.text(), /id="news-fav-3"[^>]*hx-post[^>]*>Favourite</)
  assert.doesNotMatch(await (await send('GET', '/news/favorites')).text(), /data-favorite-id/)

  // Already gone (another tab): no event, and this page's button and list are brought in step.
  const again = await send('DELETE', '/news/favorites/3')
  assert.equal(again.status, 200)
  assert.equal(again.headers.get('hx-trigger'), null)
  assert.match(await again.text(), /id="news-favorites"[^>]*hx-swap-oob="true"/)
})

test('favourite: bad ids are 400, unknown stories 404, the API down with nothing known 503', async () => {
  const { send } = setup()
  for (const id of ['', 'abc', '-3', '1.5']) assert.equal((await send('POST', '/news/favorites', { id })).status, 400, id)
  assert.equal((await send('DELETE', '/news/favorites/abc')).status, 400)
  assert.equal((await send('POST', '/news/favorites', { id: '999' })).status, 404)
  await fake.down()
  const r = await send('POST', '/news/favorites', { id: '4' })
  assert.equal(r.status, 503)
  assert.match(await r.text(), /not saved/)
  const fromSample = await send('POST', '/news/favorites', { id: String(sample.stories[0].id), source: 'sample' })
  assert.equal(fromSample.status, 200)
})

test('API down and nothing cached: the widget shows the labelled offline sample, never an error', async () => {
  await fake.down()
  const { send } = setup()
  const r = await send('GET', '/news')
  assert.equal(r.status, 200)
  const html = await r.text()
  assert.match(html, /offline sample/)
  assert.deepEqual(storyIds(html), sample.stories.slice(0, 5).map((s) => s.id))
  assert.match(html, /source=sample/)
})
