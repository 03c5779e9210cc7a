import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { openStore } from '../src/store.js'

test('add, list newest first, has, remove', () => {
  const store = openStore(':memory:')
  store.add({ id: 10, title: 'first', url: 'https://a.example/', by: 'ann' })
  store.add({ id: 20, title: 'second', url: undefined, by: undefined })
  assert.deepEqual(store.list().map((f) => f.id), [20, 10])
  assert.deepEqual(store.list()[0], { ...store.list()[0], title: 'second', url: undefined, by: undefined })
  assert.equal(store.has(10), true)
  assert.deepEqual([...store.ids()].sort(), [10, 20])
  assert.equal(store.remove(10)?.title, 'first')
  assert.equal(store.remove(10), undefined)
  assert.equal(store.has(10), false)
})

test('favouriting twice keeps one entry, with the newer title', () => {
  const store = openStore(':memory:')
  store.add({ id: 1, title: 'old', url: undefined, by: 'x' })
  store.add({ id: 1, title: 'new', url: undefined, by: 'x' })
  assert.deepEqual(store.list().map((f) => [f.id, f.title]), [[1, 'new']])
})

test('a file store creates its directory, is in WAL mode and keeps favourites across reopen', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dx-news-')), 'nested', 'news.db')
  const s1 = openStore(file)
  s1.add({ id: 5, title: 'kept ☕', url: 'https://k.example/', by: 'k' })
  s1.close()
  const raw = new Database(file)
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
  raw.close()
  const s2 = openStore(file)
  assert.deepEqual(s2.list().map((f) => f.title), ['kept ☕'])
  s2.close()
})
