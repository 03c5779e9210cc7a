import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, Proc } from '@dx/testkit'

test('todos acknowledged just before a kill -9 are all there after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-durable-'))
  const todo = new Proc({ name: 'todo', entry: 'services/todo/src/main.ts', port: await freePort(), env: { TODO_DB: join(dir, 'todo.db') } })
  await todo.start()
  const acked: string[] = []
  // Writes in flight while the process dies: only acknowledged ones must survive.
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; ; i++) {
      const text = `w${w}-${i}`
      try {
        const r = await fetch(`${todo.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text }) })
        if (r.status === 200) acked.push(text)
      } catch {
        return
      }
    }
  })
  while (acked.length < 200) await new Promise((r) => setTimeout(r, 10))
  await todo.kill9()
  await Promise.all(writers)
  await todo.start()
  const stored = new Set(((await (await fetch(`${todo.url}/todo/items`)).json()) as Array<{ text: string }>).map((t) => t.text))
  await todo.stop()
  const lost = acked.filter((t) => !stored.has(t))
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged todos lost`)
})
