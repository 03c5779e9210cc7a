import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Story } from '../src/hn.js'
import type { Page } from '../src/stories.js'
import { favoritesList, newsWidget, storyDetails, storyRows } from '../src/views.js'

const now = Date.UTC(2025, 0, 10, 12)
const story = (id: number, fields: Partial<Story> = {}): Story => ({
  kind: 'story',
  id,
  title: `Story ${id}`,
  url: `https://www.example.com/${id}`,
  by: 'alice',
  time: now / 1000 - 3 * 3600,
  score: 42,
  comments: 7,
  kids: [],
  ...fields,
})
const page = (stories: Story[], p: Partial<Page> = {}): Page => ({ stories, offset: 0, limit: 5, total: 20, source: 'live', ...p })
const XSS = '<img src=x onerror=alert(1)>'

test('a row shows title, site, points, author, age and comment count', async () => {
  const out = String(await newsWidget(page([story(1)]), [], now))
  assert.match(out, /data-dx-widget="news"/)
  assert.match(out, /class="news-story[^"]*" data-story-id="1"/)
  assert.match(out, />Story 1<\/a>/)
  assert.match(out, /\(example\.com\)/)
  assert.match(out, /42 points by <span class="news-by">alice<\/span>/)
  assert.match(out, /3 hours ago/)
  assert.match(out, /7 comments/)
  assert.match(out, /target="_blank" rel="noopener noreferrer"/)
  assert.doesNotMatch(out, /offline sample/)
})

test('titles, authors and favourites with markup are escaped', async () => {
  const out = String(await newsWidget(page([story(1, { title: XSS, by: `"><script>alert(2)</script>` })]), [{ id: 9, title: XSS, createdAt: '' }], now))
  assert.doesNotMatch(out, /<img src=x/)
  assert.doesNotMatch(out, /<script>alert/)
  assert.match(out, /&lt;img src=x onerror=alert\(1\)&gt;/)
  assert.match(out, /&quot;&gt;&lt;script&gt;alert\(2\)&lt;\/script&gt;/)
})

test('a javascript: URL is not linked, and shows no site', async () => {
  const out = String(await storyRows(page([story(1, { url: 'javascript:alert(1)' })]), new Set(), now))
  assert.doesNotMatch(out, /href="javascript:/i)
  assert.match(out, /<span class="news-title[^"]*">Story 1<\/span>/)
  assert.doesNotMatch(out, /news-site/)
  const details = String(await storyDetails({ story: story(1, { url: 'javascript:alert(1)' }), source: 'live' }, [], now))
  assert.doesNotMatch(details, /href="javascript:/i)
  assert.match(details, /not a web link/)
})

test('a text post links to its discussion; its HTML text is shown as text', async () => {
  const s = story(3, { url: undefined, text: 'Hi <b>HN</b><p>&lt;script&gt;x&lt;/script&gt; &amp; more' })
  const row = String(await storyRows(page([s]), new Set(), now))
  assert.match(row, /href="https:\/\/news\.ycombinator\.com\/item\?id=3"[^>]*>Story 3/)
  const details = String(await storyDetails({ story: s, source: 'live' }, [{ kind: 'comment', id: 4, by: 'bob', time: 1, text: XSS + 'hello' }], now))
  assert.match(details, /Hi HN<\/p>/)
  assert.match(details, /&lt;script&gt;x&lt;\/script&gt; &amp; more/)
  assert.doesNotMatch(details, /<script>|<img src=x|<b>/)
  assert.match(details, /hello/)
})

test('"Load more" asks for the next page; the last page says so', async () => {
  const more = String(await storyRows(page([story(1)], { offset: 5, limit: 5, total: 20 }), new Set(), now))
  assert.match(more, /hx-get="\/news\/stories\?offset=10&amp;limit=5"[^>]*>Load more/)
  const last = String(await storyRows(page([story(1)], { offset: 15, limit: 5, total: 20 }), new Set(), now))
  assert.doesNotMatch(last, /Load more/)
  assert.match(last, /No more stories/)
})

test('the offline sample is labelled, and its pages and details stay in the sample', async () => {
  const p = page([story(1)], { source: 'sample' })
  const widget = String(await newsWidget(p, [], now))
  assert.match(widget, /offline sample/)
  assert.match(widget, /offset=5&amp;limit=5&amp;source=sample/)
  assert.match(widget, /hx-get="\/news\/stories\/1\?source=sample"/)
  assert.match(String(await storyRows(p, new Set(), now, { noticeSample: true })), /offline sample/)
})

test('the favourite button shows the state; the list refreshes on the events', async () => {
  const rows = String(await storyRows(page([story(1), story(2)]), new Set([2]), now))
  assert.match(rows, /id="news-fav-1"[^>]*hx-post="\/news\/favorites"[^>]*>Favourite</)
  assert.match(rows, /id="news-fav-2"[^>]*hx-delete="\/news\/favorites\/2"[^>]*>Unfavourite</)
  const list = String(await favoritesList([{ id: 2, title: 'Two', url: 'javascript:x', createdAt: '' }]))
  assert.match(list, /hx-trigger="news:favorited from:body, news:unfavorited from:body, dx:resync from:body"/)
  assert.match(list, /hx-sync="this:replace" hx-disinherit="hx-sync"/)
  assert.match(list, /data-favorite-id="2"/)
  assert.doesNotMatch(list, /href="javascript/)
})

test('"Details" is a disclosure that reads "Hide" while open; its panel is under the row', async () => {
  const out = String(await storyRows(page([story(7)]), new Set(), now))
  const toggle = /<details class="news-details-toggle dx-disclosure-toggle group">\s*<summary ([^>]*)>(.*?)<\/summary>\s*<\/details>/s.exec(out)
  assert.ok(toggle, out)
  assert.match(toggle[1]!, /hx-get="\/news\/stories\/7" hx-trigger="click once" hx-target="#news-details-7"/)
  assert.match(toggle[1]!, /aria-controls="news-details-7"/)
  assert.equal(toggle[2], '<span class="group-open:hidden">Details</span><span class="hidden group-open:inline">Hide</span>')
  assert.match(out, /<li class="news-story dx-disclosure [^"]*"[\s\S]*<div id="news-details-7" class="news-details dx-disclosure-panel"><\/div>\s*<\/li>/)
  // Closing is the toggle's job: the details have no button of their own that would empty them.
  const details = String(await storyDetails({ story: story(7), source: 'live' }, [], now))
  assert.doesNotMatch(details, /data-dx-clear|>Close</)
})
