import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openHistory } from '../src/history.js'

// What every history does is in history-contract.test.ts, run on SQLite and PostgreSQL.

test('without a database URL the history is a SQLite file, its directory created', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dx-chat-')), 'sub', 'chat.db')
  const h = await openHistory({ file, databaseUrl: '' })
  assert.equal(await h.add({ id: 'a', room: 'lobby', nick: 'al', text: 'hi', time: new Date(0).toISOString() }), true)
  await h.close()
  const again = await openHistory({ file })
  assert.deepEqual((await again.recent('lobby')).map((m) => m.id), ['a'])
  await again.close()
})
