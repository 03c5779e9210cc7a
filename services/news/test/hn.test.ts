import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { fakeStory, startFakeHn, type FakeHn } from '@dx/testkit'
import { hnClient, parseItem, parseTopIds } from '../src/hn.js'

test('parseItem keeps stories and comments and skips what cannot be shown', () => {
  const story = parseItem(fakeStory(1, { title: '  Spaced  ', url: '', descendants: 4, kids: [5, 6] }))
  assert.equal(story?.kind, 'story')
  assert.deepEqual(story.kind === 'story' && [story.title, story.url, story.comments, story.kids], ['Spaced', undefined, 4, [5, 6]])
  assert.equal(parseItem({ id: 2, type: 'job', title: 'We are hiring', time: 1 })?.kind, 'story')
  assert.equal(parseItem({ id: 3, type: 'comment', by: 'a', text: 'hi' })?.kind, 'comment')
  const skipped = {
    null: null,
    'not an object': 'story',
    array: [1],
    deleted: fakeStory(4, { deleted: true }),
    dead: fakeStory(5, { dead: true }),
    'no title': fakeStory(6, { title: undefined }),
    'blank title': fakeStory(7, { title: '   ' }),
    'title not a string': fakeStory(8, { title: 42 }),
    'id a string': fakeStory(9, { id: '9' }),
    'score a string': fakeStory(10, { score: '100' }),
    'kids not numbers': fakeStory(11, { kids: ['x'] }),
    'time negative': fakeStory(12, { time: -5 }),
    'pollopt': { id: 13, type: 'pollopt', title: 'option' },
    'comment without text': { id: 14, type: 'comment', by: 'a' },
  }
  for (const [why, raw] of Object.entries(skipped)) assert.equal(parseItem(raw), null, why)
})

test('parseItem removes bidi controls from titles, authors, texts and URLs, so they cannot reorder the page', () => {
  const rlo = '\u202E'
  const story = parseItem(fakeStory(1, { title: `Safe ${rlo}txt.exe\u2066`, by: `mal${rlo}lory`, text: `<p>a${rlo}b`, url: `https://x.example/${rlo}` }))
  assert.ok(story?.kind === 'story')
  assert.deepEqual([story.title, story.by, story.text, story.url], ['Safe txt.exe', 'mallory', '<p>ab', 'https://x.example/'])
  const comment = parseItem({ id: 2, type: 'comment', text: `hi\u202B there\u202C` })
  assert.deepEqual(comment?.kind === 'comment' && comment.text, 'hi there')
  assert.equal(parseItem(fakeStory(3, { title: `${rlo}\u2069` })), null, 'a title of only controls is no title')
})

test('parseTopIds keeps positive integers and refuses what is not a list', () => {
  assert.deepEqual(parseTopIds([3, 1, 'x', -2, 1.5, null, 2]), [3, 1, 2])
  assert.throws(() => parseTopIds({ ids: [1] }), /expected an array/)
})

let fake: FakeHn
before(async () => {
  fake = await startFakeHn()
})
after(() => fake.close())
beforeEach(() => fake.reset())

const client = (timeoutMs = 1000) => hnClient({ baseUrl: fake.url, timeoutMs })

test('top ids and items come from NEWS_HN_URL; null, deleted, dead and malformed items are null', async () => {
  fake.setStories([fakeStory(1), fakeStory(2, { deleted: true }), fakeStory(3, { dead: true })], [4, 5])
  fake.setItem(5, '{"id": 5, "title": ')
  const hn = client()
  assert.deepEqual(await hn.topIds(), [1, 2, 3, 4, 5])
  assert.equal((await hn.item(1))?.kind, 'story')
  assert.equal(await hn.item(2), null)
  assert.equal(await hn.item(3), null)
  assert.equal(await hn.item(4), null, 'HN answers null for an unknown id')
  await assert.rejects(hn.item(5), /malformed JSON/)
  assert.deepEqual(fake.requests.slice(0, 2), ['/v0/topstories.json', '/v0/item/1.json'])
})

test('an item answering for another id is skipped', async () => {
  fake.setItem(7, fakeStory(8))
  assert.equal(await client().item(7), null)
})

test('500s, malformed JSON, a slow answer and a closed port are errors', async () => {
  const hn = client(200)
  fake.failStatus = 500
  await assert.rejects(hn.topIds(), /HTTP 500/)
  fake.failStatus = undefined
  fake.malformed = true
  await assert.rejects(hn.topIds(), /malformed JSON/)
  fake.malformed = false
  fake.latencyMs = 1000
  const t0 = Date.now()
  await assert.rejects(hn.topIds(), /timeout|aborted/i)
  assert.ok(Date.now() - t0 < 900, 'the call gives up at its timeout, not at the answer')
  fake.latencyMs = 0
  await fake.down()
  try {
    await assert.rejects(hn.topIds())
  } finally {
    await fake.up()
  }
})

test('at most 8 calls are in flight at once', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => i + 1)
  fake.setStories(ids.map((id) => fakeStory(id)))
  fake.latencyMs = 30
  const hn = client()
  const items = await Promise.all(ids.map((id) => hn.item(id)))
  assert.equal(items.filter((it) => it?.kind === 'story').length, 30)
  assert.equal(fake.maxInFlight, 8)
})
