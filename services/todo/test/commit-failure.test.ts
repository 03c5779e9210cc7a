import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { chattrProblem, withFailingCommits } from '@dx/testkit'
import { todoService } from '../src/app.js'
import { openSqliteStore } from '../src/store-sqlite.js'

test('a write whose commit fails answers 503 with no event and stores nothing; the next write gets a new id', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-todo-commit-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const why = chattrProblem(dir)
  if (why) return t.skip(why)

  const file = join(dir, 'todo.db')
  const store = openSqliteStore(file)
  t.after(() => store.close())
  const { app } = todoService(store)
  const send = (method: string, path: string, body?: Record<string, string>) =>
    app.request(path, { method, body: body && new URLSearchParams(body), headers: { 'hx-request': 'true' } })
  const addedId = (r: Response) => (JSON.parse(r.headers.get('hx-trigger')!) as { 'todo:added': { id: number } })['todo:added'].id

  const kept = await send('POST', '/todo/items', { text: 'kept' })
  assert.equal(kept.status, 200)
  const handedOut = new Set([addedId(kept)])

  await withFailingCommits(file, async () => {
    const writes = [
      ['POST', '/todo/items', { text: 'lost' }, /^The todo could not be saved; nothing was added/],
      ['PATCH', `/todo/items/${addedId(kept)}`, { done: 'true' }, /^The todo could not be updated; nothing was changed/],
      ['DELETE', `/todo/items/${addedId(kept)}`, undefined, /^The todo could not be removed; it is still there/],
    ] as const
    for (const [method, path, body, message] of writes) {
      const r = await send(method, path, body)
      assert.equal(r.status, 503, `${method} ${path}`)
      assert.equal(r.headers.get('hx-trigger'), null, `${method} ${path}`)
      assert.match(await r.text(), message)
    }
  })

  // What is on disk, through a connection of its own.
  const other = openSqliteStore(file)
  assert.deepEqual((await other.list()).map((todo) => [todo.text, todo.done]), [['kept', false]])
  await other.close()

  const next = await send('POST', '/todo/items', { text: 'after' })
  assert.equal(next.status, 200)
  assert.ok(!handedOut.has(addedId(next)), `id ${addedId(next)} was handed out before`)
  assert.equal((await send('PATCH', `/todo/items/${addedId(kept)}`, { done: 'true' })).status, 200)
  assert.equal((await send('DELETE', `/todo/items/${addedId(kept)}`)).status, 200)
  assert.deepEqual((await store.list()).map((todo) => todo.text), ['after'])
})
