import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { storeBackends } from '@dx/testkit'
import { openHistory, type History, type Message } from '../src/history.js'

const quiet = { info() {}, warn() {}, error() {} }
const msg = (room: string, i: number): Message => ({ id: `${room}-${i}`, room, nick: 'al', text: `m${i}`, time: new Date(i * 1000).toISOString() })

// The same contract on both backends: SQLite (a temporary file) and PostgreSQL (a schema
// of its own, DX_TEST_DATABASE_URL; skipped with the reason when unset).
for (const backend of storeBackends('chat')) {
  describe(`chat history on ${backend.name}`, { skip: backend.skip, timeout: 60_000 }, () => {
    /** A history in a fresh place; `again()` opens another on the same data (a restart, or a second replica). */
    async function fresh(t: TestContext, size?: number) {
      const place = await backend.place()
      const opened: History[] = []
      const again = async () => {
        const h = await openHistory({ ...place, log: quiet, size })
        opened.push(h)
        return h
      }
      t.after(async () => {
        await Promise.allSettled(opened.map((h) => h.close()))
        await place.cleanup()
      })
      return { history: await again(), again }
    }

    test('keeps the last 100 messages per room, oldest first, rooms apart', async (t) => {
      const { history: h } = await fresh(t)
      for (let i = 1; i <= 130; i++) await h.add(msg('lobby', i))
      await h.add(msg('dev', 1))
      const lobby = await h.recent('lobby')
      assert.equal(lobby.length, 100)
      assert.equal(lobby[0]!.text, 'm31')
      assert.equal(lobby[99]!.text, 'm130')
      assert.deepEqual(lobby[99], msg('lobby', 130))
      assert.deepEqual((await h.recent('dev')).map((m) => m.text), ['m1'])
      assert.deepEqual(await h.recent('empty'), [])
    })

    test('adds not awaited one by one keep their order', async (t) => {
      const { history: h } = await fresh(t, 10)
      const added = await Promise.all(Array.from({ length: 25 }, (_, i) => h.add(msg('lobby', i + 1))))
      assert.ok(added.every(Boolean))
      assert.deepEqual((await h.recent('lobby')).map((m) => m.text), Array.from({ length: 10 }, (_, i) => `m${i + 16}`))
    })

    test('a system message (no nick) and text with markup come back exactly', async (t) => {
      const { history: h } = await fresh(t)
      const system = { id: 's', room: 'lobby', nick: '', text: 'ann added a todo: <b>"milk"</b> & ☕', time: new Date().toISOString() }
      await h.add(system)
      assert.deepEqual(await h.recent('lobby'), [system])
    })

    test('a repeated id is stored once; kept across a reopen', async (t) => {
      const { history: h, again } = await fresh(t)
      assert.equal(await h.add(msg('lobby', 1)), true)
      assert.equal(await h.add(msg('lobby', 1)), false)
      await h.close()
      assert.deepEqual((await (await again()).recent('lobby')).map((m) => m.id), ['lobby-1'])
    })

    test('two replicas on the same history: each stores every message off the bus, once; a joiner on B sees what was said on A', async (t) => {
      const { history: a, again } = await fresh(t)
      const b = await again()
      for (let i = 1; i <= 5; i++) {
        // Both replicas get each message; whichever stores it first wins.
        const [x, y] = await Promise.all([a.add(msg('lobby', i)), b.add(msg('lobby', i))])
        assert.equal(Number(x) + Number(y), 1, `message ${i} stored exactly once`)
      }
      assert.deepEqual((await b.recent('lobby')).map((m) => m.text), ['m1', 'm2', 'm3', 'm4', 'm5'])
      await a.add(msg('dev', 9))
      assert.deepEqual(await b.recent('dev'), [msg('dev', 9)])
    })
  })
}
