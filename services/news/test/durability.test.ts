import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fakeStory, freePort, Proc, startFakeHn } from '@dx/testkit'

test('favourites acknowledged just before a kill -9 are all there after a restart', async () => {
  const fake = await startFakeHn()
  fake.setStories(Array.from({ length: 2000 }, (_, i) => fakeStory(i + 1)))
  const dir = mkdtempSync(join(tmpdir(), 'dx-news-durable-'))
  const news = new Proc({
    name: 'news',
    entry: 'services/news/src/main.ts',
    port: await freePort(),
    env: { NEWS_DB: join(dir, 'news.db'), NEWS_HN_URL: fake.url },
  })
  await news.start()
  const acked: number[] = []
  let next = 1
  // Writes in flight while the process dies: only acknowledged ones must survive.
  const writers = Array.from({ length: 4 }, async () => {
    while (next <= 2000) {
      const id = next++
      try {
        const r = await fetch(`${news.url}/news/favorites`, { method: 'POST', body: new URLSearchParams({ id: String(id) }) })
        if (r.status === 200) acked.push(id)
      } catch {
        return
      }
    }
  })
  while (acked.length < 150) await new Promise((r) => setTimeout(r, 10))
  await news.kill9()
  await Promise.all(writers)
  await news.start()
  const list = await (await fetch(`${news.url}/news/favorites`)).text()
  await news.stop()
  await fake.close()
  const stored = new Set([...list.matchAll(/data-favorite-id="(\d+)"/g)].map((m) => Number(m[1])))
  const lost = acked.filter((id) => !stored.has(id))
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged favourites lost`)
})
