import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { newsService } from '../src/app.js'
import type { Story } from '../src/hn.js'
import { openStore } from '../src/store.js'
import type { Stories } from '../src/stories.js'

// A commit that fails, for real: the database file and its WAL made immutable (chattr +i),
// so SQLite's write of the WAL frames fails with EPERM at COMMIT. A read-only open does not
// reproduce it (the write is refused before any row is returned). The -shm file stays
// writable: SQLite has it mapped in memory, and a write to an immutable mapping is SIGBUS,
// which would kill the test runner rather than fail the commit.
const chattr = (flag: '+i' | '-i', files: string[]) => spawnSync('chattr', [flag, ...files], { encoding: 'utf8' })

/** Why chattr +i cannot be used here, or null. */
function chattrProblem(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'chattr +i needs root; run as root to test failed commits'
  const probe = join(dir, 'probe')
  writeFileSync(probe, '')
  const r = chattr('+i', [probe])
  if (r.error) return `chattr is not available (${r.error.message})`
  if (r.status !== 0) return `chattr +i is not supported on ${dir}: ${r.stderr.trim()}`
  chattr('-i', [probe])
  return null
}

async function withFailingCommits(db: string, run: () => Promise<void>) {
  const files = [db, `${db}-wal`]
  assert.ok(files.every((f) => existsSync(f)), 'the database is open in WAL mode')
  const set = chattr('+i', files)
  assert.equal(set.status, 0, set.stderr)
  try {
    await run()
  } finally {
    chattr('-i', files)
  }
}

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
  const store = openStore(file)
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
  const other = openStore(file)
  assert.deepEqual(other.list().map((f) => f.id), [1])
  other.close()

  const added = await favourite(2)
  assert.equal(added.status, 200)
  assert.deepEqual(JSON.parse(added.headers.get('hx-trigger')!), { 'news:favorited': { id: 2, title: 'Story 2' } })
  const removed = await unfavourite(1)
  assert.deepEqual(JSON.parse(removed.headers.get('hx-trigger')!), { 'news:unfavorited': { id: 1, title: 'Story 1' } })
  assert.deepEqual(store.list().map((f) => f.id), [2])
})
