import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createTestSchema, pgExec, pgSkip } from '@dx/testkit'
import { newsService } from '../src/app.js'
import type { Story } from '../src/hn.js'
import { openStore } from '../src/store.js'
import type { Stories } from '../src/stories.js'

// What only PostgreSQL has; the contract shared with SQLite is in store-contract.test.ts.
// The server gone during COMMIT is tested once, on todo's store (same @dx/kit/pg transaction).

const quiet = { info() {}, warn() {}, error() {} }
const story = (id: number): Story => ({ kind: 'story', id, title: `Story ${id}`, score: 1, comments: 0, kids: [] })
const stories = {
  page: async () => ({ stories: [], offset: 0, limit: 5, total: 0, source: 'live' }),
  story: async (id: number) => ({ story: story(id), source: 'live' }),
  comments: async () => [],
  clear: () => {},
} as Stories

describe('favourites store on PostgreSQL only', { skip: pgSkip(), timeout: 60_000 }, () => {
  test('a COMMIT the server refuses answers 503 with no event and stores nothing; later writes work', async (t) => {
    const s = await createTestSchema()
    const store = await openStore({ databaseUrl: s.url, schema: s.schema, file: '(unused)', log: quiet })
    t.after(async () => {
      await store.close()
      await s.drop()
    })
    const sql = (text: string) => pgExec(text, [], s.schema)
    const { app } = newsService({ store, stories })
    const favourite = (id: number) =>
      app.request('/news/favorites', { method: 'POST', body: new URLSearchParams({ id: String(id) }), headers: { 'hx-request': 'true' } })
    const unfavourite = (id: number) => app.request(`/news/favorites/${id}`, { method: 'DELETE', headers: { 'hx-request': 'true' } })

    assert.equal((await favourite(1)).status, 200)
    await sql(`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$;
      create constraint trigger refuse after insert or update or delete on favorites deferrable initially deferred for each row execute function refuse()`)
    for (const [r, message] of [
      [await favourite(2), /^Story #2 could not be saved as a favourite; nothing was added/],
      [await favourite(1), /^Story #1 could not be saved as a favourite; nothing was added/],
      [await unfavourite(1), /^The favourite #1 could not be removed; it is still there/],
    ] as const) {
      assert.equal(r.status, 503)
      assert.equal(r.headers.get('hx-trigger'), null)
      assert.match(await r.text(), message)
    }
    await sql('drop trigger refuse on favorites')
    assert.deepEqual((await sql('select id::int, title from favorites')).rows, [{ id: 1, title: 'Story 1' }])

    const added = await favourite(2)
    assert.deepEqual(JSON.parse(added.headers.get('hx-trigger')!), { 'news:favorited': { id: 2, title: 'Story 2' } })
    const removed = await unfavourite(1)
    assert.deepEqual(JSON.parse(removed.headers.get('hx-trigger')!), { 'news:unfavorited': { id: 1, title: 'Story 1' } })
    assert.deepEqual((await store.list()).map((f) => f.id), [2])
    assert.deepEqual((await sql('select owner, version from dx_migrations')).rows, [{ owner: 'news', version: 1 }])
  })
})
