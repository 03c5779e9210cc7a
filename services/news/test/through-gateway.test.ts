import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type System } from '@dx/testkit'

// One system for the file: a gateway and news, news pointed at a local fake HN. The tests
// run in order; restarting news empties its in-process cache.
let fake: FakeHn
let sys: System
before(async () => {
  fake = await startFakeHn()
  fake.setStories(Array.from({ length: 12 }, (_, i) => fakeStory(i + 1, { kids: [100] })))
  fake.setItem(100, { id: 100, type: 'comment', by: 'commenter', text: 'Nice <i>work</i>', time: 1 })
  sys = await startSystem({
    services: ['news'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-news-gw-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
})
after(async () => {
  await sys?.stop()
  await fake?.close()
})

const htmx = { 'HX-Request': 'true', 'content-type': 'application/x-www-form-urlencoded' }
const get = (path: string) => fetch(`${sys.gateway.url}${path}`, { headers: htmx })
const storyIds = (html: string) => [...html.matchAll(/data-story-id="(\d+)"/g)].map((m) => Number(m[1]))
const restartNews = async () => {
  await sys.services.news!.stop()
  await sys.services.news!.start()
}

test('the widget lists the top stories, loads more and opens details', async () => {
  const widget = await get('/news')
  assert.equal(widget.status, 200)
  const html = await widget.text()
  assert.match(html, /data-dx-widget="news"/)
  assert.deepEqual(storyIds(html), [1, 2, 3, 4, 5])
  assert.doesNotMatch(html, /offline sample/)

  const more = await (await get('/news/stories?offset=5&limit=5')).text()
  assert.deepEqual(storyIds(more), [6, 7, 8, 9, 10])
  assert.match(more, /offset=10&amp;limit=5/)
  assert.equal((await get('/news/stories?offset=abc')).status, 400)

  const details = await (await get('/news/stories/2')).text()
  assert.match(details, /data-detail-id="2"/)
  assert.match(details, /Nice work/)
  assert.equal((await get('/news/stories/99999')).status, 404)
})

test('favourite and unfavourite through the gateway, with their HX-Trigger headers', async () => {
  const fav = await fetch(`${sys.gateway.url}/news/favorites`, { method: 'POST', headers: htmx, body: 'id=4' })
  assert.equal(fav.status, 200)
  assert.deepEqual(JSON.parse(fav.headers.get('hx-trigger')!), { 'news:favorited': { id: 4, title: 'Story number 4' } })
  assert.match(await fav.text(), />Unfavourite</)
  assert.match(await (await get('/news/favorites')).text(), /data-favorite-id="4"/)

  const unfav = await fetch(`${sys.gateway.url}/news/favorites/4`, { method: 'DELETE', headers: htmx })
  assert.equal(unfav.status, 200)
  assert.deepEqual(JSON.parse(unfav.headers.get('hx-trigger')!), { 'news:unfavorited': { id: 4, title: 'Story number 4' } })
  assert.doesNotMatch(await (await get('/news/favorites')).text(), /data-favorite-id="4"/)
})

test('API down with a cache: the cached list', async () => {
  await get('/news')
  await fake.down()
  try {
    const r = await get('/news')
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-dx-fallback'), null)
    const html = await r.text()
    assert.deepEqual(storyIds(html), [1, 2, 3, 4, 5])
    assert.doesNotMatch(html, /offline sample/)
  } finally {
    await fake.up()
  }
})

test('API down and nothing cached: the offline sample, never an error', async () => {
  await fake.down()
  try {
    await restartNews()
    const r = await get('/news')
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-dx-fallback'), null)
    const html = await r.text()
    assert.match(html, /offline sample/)
    assert.equal(storyIds(html).length, 5)
    // The standalone page too.
    const page = await (await fetch(sys.services.news!.url)).text()
    assert.match(page, /offline sample/)
  } finally {
    await fake.up()
  }
})

test('a slow API and nothing cached: the widget answers inside the gateway timeout, not as a fallback', async () => {
  fake.latencyMs = 10_000
  try {
    await restartNews()
    const t0 = Date.now()
    const r = await get('/news')
    const took = Date.now() - t0
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-dx-fallback'), null, 'answered by news, not by the gateway')
    assert.match(await r.text(), /offline sample/)
    assert.ok(took < 4500, `answered after ${took} ms`)
  } finally {
    fake.latencyMs = 0
  }
})

test('a slow API with a cache: answered at once from the cache', async () => {
  await restartNews()
  await get('/news')
  fake.latencyMs = 10_000
  try {
    const t0 = Date.now()
    const html = await (await get('/news')).text()
    assert.ok(Date.now() - t0 < 1000)
    assert.deepEqual(storyIds(html), [1, 2, 3, 4, 5])
  } finally {
    fake.latencyMs = 0
  }
})
