import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { storeBackends } from '@dx/testkit'
import { todoService } from '../src/app.js'
import { openStore, type Store } from '../src/store.js'

const quiet = { info() {}, warn() {}, error() {} }

// The same contract on both backends: SQLite (a temporary file) and PostgreSQL (a schema
// of its own, DX_TEST_DATABASE_URL; skipped with the reason when unset).
for (const backend of storeBackends('todo')) {
  describe(`todo store on ${backend.name}`, { skip: backend.skip, timeout: 60_000 }, () => {
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

    test('add, list oldest first, mark done and undo, remove', async (t) => {
      const { store } = await fresh(t)
      const a = await store.add('first')
      const b = await store.add('second')
      assert.ok(Number.isInteger(a.id) && a.id > 0 && b.id > a.id, `ids ${a.id}, ${b.id}`)
      assert.equal(a.done, false)
      assert.match(a.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.deepEqual((await store.list()).map((x) => x.text), ['first', 'second'])
      assert.equal((await store.setDone(a.id, true))!.done, true)
      assert.deepEqual(await store.get(a.id), { ...a, done: true })
      assert.equal((await store.setDone(a.id, false))!.done, false)
      assert.deepEqual(await store.remove(b.id), b)
      assert.deepEqual((await store.list()).map((x) => x.id), [a.id])
      assert.equal(await store.get(b.id), undefined)
    })

    test('unknown ids give undefined, not errors', async (t) => {
      const { store } = await fresh(t)
      assert.equal(await store.get(99), undefined)
      assert.equal(await store.setDone(99, true), undefined)
      assert.equal(await store.remove(99), undefined)
      // The largest id a path accepts (16 digits) is unknown too, not an overflow.
      assert.equal(await store.remove(9_999_999_999_999_999), undefined)
    })

    test('text comes back exactly: markup, quotes, emoji, 500 characters', async (t) => {
      const { store } = await fresh(t)
      for (const text of [`<b>"it's" & done</b>`, '☕ then 🍰', 'x'.repeat(500), "'; drop table todos; --"]) {
        const added = await store.add(text)
        assert.equal((await store.get(added.id))!.text, text)
      }
      assert.equal((await store.list()).length, 4)
    })

    test('an id is never handed out again, even after the newest todo is removed', async (t) => {
      const { store, again } = await fresh(t)
      const a = await store.add('a')
      await store.remove(a.id)
      const b = await store.add('b')
      assert.ok(b.id > a.id)
      await store.remove(b.id)
      const c = await (await again()).add('c')
      assert.ok(c.id > b.id, `${c.id} after ${b.id}`)
    })

    test('todos are kept across a reopen', async (t) => {
      const { store, again } = await fresh(t)
      const kept = await store.add('kept')
      await store.setDone(kept.id, true)
      await store.close()
      assert.deepEqual(await (await again()).list(), [{ ...kept, done: true }])
    })

    test('two replicas on the same data: a write on A is read on B at once', async (t) => {
      const { store: a, again } = await fresh(t)
      const b = await again()
      const added = await a.add('from A')
      assert.deepEqual(await b.get(added.id), added)
      await b.setDone(added.id, true)
      assert.equal((await a.get(added.id))!.done, true)
      // Writes from both at once: every one stored, no id twice.
      const texts = Array.from({ length: 20 }, (_, i) => `t${i}`)
      const made = await Promise.all(texts.map((x, i) => (i % 2 ? a : b).add(x)))
      assert.equal(new Set(made.map((x) => x.id)).size, 20)
      assert.deepEqual((await b.list()).map((x) => x.text).sort(), [...texts, 'from A'].sort())
    })

    test('two service replicas: the todo added on A is in the list B serves, with the event for the other windows', async (t) => {
      const { store: a, again } = await fresh(t)
      const appA = todoService(a).app
      const appB = todoService(await again()).app
      const r = await appA.request('/todo/items', { method: 'POST', body: new URLSearchParams({ text: 'shared milk' }), headers: { 'hx-request': 'true' } })
      assert.equal(r.status, 200)
      const event = JSON.parse(r.headers.get('hx-trigger')!) as { 'todo:added': { id: number; text: string } }
      assert.equal(event['todo:added'].text, 'shared milk')
      // What a window on B fetches when the event reaches it.
      const list = await (await appB.request('/todo/list')).text()
      assert.match(list, /shared milk/)
      const items = (await (await appB.request('/todo/items')).json()) as { id: number }[]
      assert.deepEqual(items.map((x) => x.id), [event['todo:added'].id])
    })
  })
}
