import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { chattrProblem, withFailingCommits } from '@dx/testkit'
import { newsService } from '../src/app.js'
import type { Story } from '../src/hn.js'
import { openSqliteStore } from '../src/store-sqlite.js'
import type { Stories } from '../src/stories.js'

const story = (id: number): Story => ({ kind: 'story', id, title: `Story ${id}`, score: 1, comments: 0, kids: [] })
// Every story can be found: only the database can fail here.
const stories = {
  page: async () => ({ stories: [], offset: 0, limit: 5, total: 0, source: 'live' }),
  story: async (id: number) => ({ story: story(id), source: 'live' }),
  comments: async () => [],
  clear: () => {},
} as Stories

test('a favourite whose commit fails answers 503 with no event and stores nothing; later writes work', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-news-commit-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const why = chattrProblem(dir)
  if (why) return t.skip(why)

  const file = join(dir, 'news.db')
  const store = openSqliteStore(file)
  t.after(() => store.close())
  const { app } = newsService({ store, stories })
  const favourite = (id: number) =>
    app.request('/news/favorites', { method: 'POST', body: new URLSearchParams({ id: String(id) }), headers: { 'hx-request': 'true' } })
  const unfavourite = (id: number) => app.request(`/news/favorites/${id}`, { method: 'DELETE', headers: { 'hx-request': 'true' } })

  assert.equal((await favourite(1)).status, 200)

  await withFailingCommits(file, async () => {
    for (const [r, message] of [
      [await favourite(2), /^Story #2 could not be saved as a favourite; nothing was added/],
      [await unfavourite(1), /^The favourite #1 could not be removed; it is still there/],
    ] as const) {
      assert.equal(r.status, 503)
      assert.equal(r.headers.get('hx-trigger'), null)
      assert.match(await r.text(), message)
    }
  })

  // What is on disk, through a connection of its own.
  const other = openSqliteStore(file)
  assert.deepEqual((await other.list()).map((f) => f.id), [1])
  await other.close()

  const added = await favourite(2)
  assert.equal(added.status, 200)
  assert.deepEqual(JSON.parse(added.headers.get('hx-trigger')!), { 'news:favorited': { id: 2, title: 'Story 2' } })
  const removed = await unfavourite(1)
  assert.deepEqual(JSON.parse(removed.headers.get('hx-trigger')!), { 'news:unfavorited': { id: 1, title: 'Story 1' } })
  assert.deepEqual((await store.list()).map((f) => f.id), [2])
})
