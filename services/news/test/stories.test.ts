import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { fakeStory, startFakeHn, type FakeHn } from '@dx/testkit'
import { hnClient } from '../src/hn.js'
import { loadSample } from '../src/sample.js'
import { storySource } from '../src/stories.js'

let fake: FakeHn
before(async () => {
  fake = await startFakeHn()
})
after(() => fake.close())
beforeEach(async () => {
  fake.reset()
  await fake.up()
  fake.setStories(Array.from({ length: 12 }, (_, i) => fakeStory(i + 1, { kids: [101, 102, 103, 104] })))
  fake.setItem(101, { id: 101, type: 'comment', by: 'c1', text: 'first', time: 1 })
  fake.setItem(102, { id: 102, type: 'comment', deleted: true })
  fake.setItem(103, { id: 103, type: 'comment', by: 'c3', text: 'third', time: 1 })
})

const sample = loadSample()
function source(o: { timeoutMs?: number; now?: () => number } = {}) {
  const timeoutMs = o.timeoutMs ?? 1000
  return storySource({ client: hnClient({ baseUrl: fake.url, timeoutMs }), sample, deadlineMs: timeoutMs, now: o.now })
}
const ids = (p: { stories: Array<{ id: number }> }) => p.stories.map((s) => s.id)

test('pages of live stories, with the total for "Load more"', async () => {
  const s = source()
  const first = await s.page(0, 5)
  assert.deepEqual(ids(first), [1, 2, 3, 4, 5])
  assert.equal(first.source, 'live')
  assert.equal(first.total, 12)
  assert.deepEqual(ids(await s.page(10, 5)), [11, 12])
  assert.deepEqual(ids(await s.page(50, 5)), [])
})

test('bad items on a page are skipped, the rest is shown', async () => {
  fake.setItem(2, null).setItem(3, fakeStory(3, { deleted: true })).setItem(4, '{"broken": ').setItem(5, fakeStory(5, { title: ['x'] }))
  const page = await source().page(0, 6)
  assert.deepEqual(ids(page), [1, 6])
  assert.equal(page.source, 'live')
})

test('a warm page is served from the cache without asking the API', async () => {
  const s = source()
  await s.page(0, 5)
  const asked = fake.count()
  await s.page(0, 5)
  await s.story(3)
  assert.equal(fake.count(), asked)
})

test('stale entries are served at once and refreshed behind', async () => {
  let t = 0
  const s = source({ now: () => t })
  await s.page(0, 5)
  fake.setStories([fakeStory(99)])
  t = 61_000
  assert.deepEqual(ids(await s.page(0, 5)), [1, 2, 3, 4, 5], 'stale, served immediately')
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(ids(await s.page(0, 5)), [99], 'refreshed in the background')
})

test('API down with a cache: the cached page, not the sample', async () => {
  let t = 0
  const s = source({ now: () => t })
  await s.page(0, 5)
  await fake.down()
  t = 10 * 60_000 // everything is stale: still better than the sample
  const page = await s.page(0, 5)
  assert.equal(page.source, 'live')
  assert.deepEqual(ids(page), [1, 2, 3, 4, 5])
})

test('API down and nothing cached: the offline sample, paged the same way', async () => {
  await fake.down()
  const s = source()
  const page = await s.page(0, 5)
  assert.equal(page.source, 'sample')
  assert.deepEqual(ids(page), sample.stories.slice(0, 5).map((x) => x.id))
  assert.equal(page.total, sample.stories.length)
  assert.deepEqual(ids(await s.page(5, 5, { sample: true })), sample.stories.slice(5, 10).map((x) => x.id))
})

test('API answering 500 or malformed JSON: the offline sample', async () => {
  fake.failStatus = 500
  assert.equal((await source().page(0, 5)).source, 'sample')
  fake.failStatus = undefined
  fake.malformed = true
  assert.equal((await source().page(0, 5)).source, 'sample')
})

test('a slow API with a cold cache: the sample after the deadline, then the cache fills behind', async () => {
  fake.latencyMs = 150
  const s = source({ timeoutMs: 200 })
  const t0 = Date.now()
  const page = await s.page(0, 5)
  const took = Date.now() - t0
  assert.equal(page.source, 'sample')
  assert.ok(took >= 190 && took < 1000, `answered after ${took} ms`)
  await new Promise((r) => setTimeout(r, 300))
  fake.latencyMs = 5000
  const t1 = Date.now()
  const warm = await s.page(0, 5)
  assert.equal(warm.source, 'live', 'the loads went on and filled the cache')
  assert.ok(Date.now() - t1 < 1000, 'not waiting for the slow API')
})

test('details: a live story, its first readable comments, and the misses', async () => {
  const s = source()
  const found = await s.story(1)
  assert.ok(typeof found === 'object')
  assert.equal(found.story.title, 'Story number 1')
  const comments = await s.comments(found.story, 3)
  assert.deepEqual(comments, [
    { kind: 'comment', id: 101, by: 'c1', time: 1, text: 'first' },
    { kind: 'comment', id: 103, by: 'c3', time: 1, text: 'third' },
  ])
  assert.equal(await s.story(101), 'not-found', 'a comment is not a story')
  assert.equal(await s.story(5000), 'not-found')
  await fake.down()
  assert.equal(await source().story(2), 'unreachable')
  const fromSample = await source().story(sample.stories[0].id)
  assert.deepEqual(typeof fromSample === 'object' && fromSample.source, 'sample')
  assert.equal(await source().comments(found.story), 'unreachable')
})

test('a story asked for as a sample story comes from the sample, even with the API up', async () => {
  const id = sample.stories[3].id
  fake.setItem(id, fakeStory(id, { title: 'something else' }))
  const found = await source().story(id, { sample: true })
  assert.ok(typeof found === 'object')
  assert.equal(found.story.title, sample.stories[3].title)
  assert.equal(await source().story(1, { sample: true }), 'not-found')
})
