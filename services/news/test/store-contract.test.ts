import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { storeBackends } from '@dx/testkit'
import { openStore, type Store } from '../src/store.js'

const quiet = { info() {}, warn() {}, error() {} }

// The same contract on both backends: SQLite (a temporary file) and PostgreSQL (a schema
// of its own, DX_TEST_DATABASE_URL; skipped with the reason when unset).
for (const backend of storeBackends('news')) {
  describe(`favourites store on ${backend.name}`, { skip: backend.skip, timeout: 60_000 }, () => {
    /** A store in a fresh place; `again()` opens another store on the same data (a restart, or a second replica). */
    async function fresh(t: TestContext) {
      const place = await backend.place()
      const stores: Store[] = []
      const again = async () => {
        const s = await openStore({ ...place, log: quiet })
        stores.push(s)
        return s
      }
      t.after(async () => {
        await Promise.allSettled(stores.map((s) => s.close()))
        await place.cleanup()
      })
      return { store: await again(), again }
    }

    test('add, list newest first, has, ids, remove', async (t) => {
      const { store } = await fresh(t)
      const first = await store.add({ id: 10, title: 'first', url: 'https://a.example/', by: 'ann' })
      assert.deepEqual({ ...first, createdAt: '' }, { id: 10, title: 'first', url: 'https://a.example/', by: 'ann', createdAt: '' })
      assert.match(first.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      const second = await store.add({ id: 20, title: 'second', url: undefined, by: undefined })
      assert.deepEqual(await store.list(), [second, first])
      assert.equal(second.url, undefined)
      assert.equal(second.by, undefined)
      assert.equal(await store.has(10), true)
      assert.equal(await store.has(30), false)
      assert.deepEqual([...(await store.ids())].sort(), [10, 20])
      assert.deepEqual(await store.remove(10), first)
      assert.equal(await store.remove(10), undefined)
      assert.equal(await store.has(10), false)
      assert.deepEqual(await store.list(), [second])
    })

    test('favouriting again keeps one entry in its place, with the newer title', async (t) => {
      const { store } = await fresh(t)
      await store.add({ id: 1, title: 'old', url: undefined, by: 'x' })
      await store.add({ id: 2, title: 'other', url: undefined, by: 'y' })
      const again = await store.add({ id: 1, title: 'new', url: 'https://n.example/', by: 'x' })
      assert.equal(again.title, 'new')
      assert.deepEqual((await store.list()).map((f) => [f.id, f.title, f.url]), [[2, 'other', undefined], [1, 'new', 'https://n.example/']])
    })

    test('many added in a row list newest first, even within one clock tick', async (t) => {
      const { store } = await fresh(t)
      for (let id = 1; id <= 30; id++) await store.add({ id, title: `s${id}`, url: undefined, by: undefined })
      assert.deepEqual((await store.list()).map((f) => f.id), Array.from({ length: 30 }, (_, i) => 30 - i))
    })

    test('titles come back exactly, and large HN ids fit', async (t) => {
      const { store } = await fresh(t)
      const title = `<i>"Café" ☕ & 'quotes'</i>`
      await store.add({ id: 99_999_999_999, title, url: undefined, by: undefined })
      assert.deepEqual((await store.list()).map((f) => [f.id, f.title]), [[99_999_999_999, title]])
    })

    test('kept across a reopen; two replicas on the same data read each other at once', async (t) => {
      const { store: a, again } = await fresh(t)
      const b = await again()
      const fav = await a.add({ id: 7, title: 'shared', url: undefined, by: 'z' })
      assert.deepEqual(await b.list(), [fav])
      assert.equal(await b.has(7), true)
      assert.deepEqual(await b.remove(7), fav)
      assert.deepEqual(await a.list(), [])
      await a.add({ id: 8, title: 'kept', url: undefined, by: undefined })
      await a.close()
      assert.deepEqual((await (await again()).list()).map((f) => f.id), [8])
    })
  })
}
