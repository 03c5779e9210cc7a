import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { openStore } from '../src/store.js'

// What every store does is in store-contract.test.ts, run on SQLite and PostgreSQL.

test('without a database URL the store is a SQLite file: its directory created, in WAL mode', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dx-news-')), 'nested', 'news.db')
  const s1 = await openStore({ file, databaseUrl: '' })
  await s1.add({ id: 5, title: 'kept ☕', url: 'https://k.example/', by: 'k' })
  await s1.close()
  const raw = new Database(file)
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
  raw.close()
  const s2 = await openStore({ file })
  assert.deepEqual((await s2.list()).map((f) => f.title), ['kept ☕'])
  await s2.close()
})
