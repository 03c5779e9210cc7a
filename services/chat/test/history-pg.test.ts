// Chat replicas sharing their history in PostgreSQL (CHAT_DATABASE_URL), as real processes.
// Each has its own in-process bus here, so only the database joins them: what bob sees
// on B came from the history that A wrote.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTestSchema, freePort, pgExec, pgSkip, Proc, sleep, withSearchPath } from '@dx/testkit'
import { ChatClient } from './client.js'

test('a user joining on replica B sees what was said on replica A', { skip: pgSkip(), timeout: 60_000 }, async (t) => {
  const s = await createTestSchema()
  t.after(() => s.drop())
  // A SQLite file of its own for each, were the URL ignored: then B could not know what A heard.
  const start = async (name: string) => {
    const env = { CHAT_DATABASE_URL: withSearchPath(s.url, s.schema), CHAT_DB: join(mkdtempSync(join(tmpdir(), `dx-${name}-`)), 'chat.db') }
    return new Proc({ name, entry: 'services/chat/src/main.ts', port: await freePort(), env }).start()
  }
  const [a, b] = await Promise.all([start('chat-a'), start('chat-b')])
  const clients: ChatClient[] = []
  t.after(async () => {
    for (const c of clients) c.close()
    await Promise.all([a.stop(), b.stop()])
  })

  const ann = await ChatClient.open(a.url, 'lobby', 'ann')
  clients.push(ann)
  ann.send('said on A')
  await ann.waitFor(/said on A/)
  let stored = false
  for (let i = 0; i < 250 && !stored; i++) {
    stored = !!(await pgExec('select 1 from messages where text = $1', ['said on A'], s.schema)).rowCount
    if (!stored) await sleep(20)
  }
  assert.ok(stored, 'A wrote the message to PostgreSQL')
  const bob = await ChatClient.open(b.url, 'lobby', 'bob')
  clients.push(bob)
  const joined = await bob.waitFor(/hx-swap-oob="innerHTML"/)
  assert.match(joined, /said on A/)
  assert.deepEqual((await pgExec('select owner, version from dx_migrations', [], s.schema)).rows, [{ owner: 'chat', version: 1 }])
})
