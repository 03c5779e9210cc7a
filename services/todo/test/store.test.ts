import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { MAX_TEXT, openStore, validateText } from '../src/store.js'

// What every store does is in store-contract.test.ts, run on SQLite and PostgreSQL.

test('validateText trims and enforces 1..500 characters', () => {
  assert.deepEqual(validateText('  milk  '), { ok: true, text: 'milk' })
  assert.equal(validateText('   ').ok, false)
  assert.equal(validateText('').ok, false)
  assert.equal(validateText(undefined).ok, false)
  assert.equal(validateText(42).ok, false)
  assert.equal(validateText('x'.repeat(MAX_TEXT)).ok, true)
  const long = validateText('x'.repeat(MAX_TEXT + 1))
  assert.equal(long.ok, false)
  assert.match((long as { error: string }).error, /501 characters, at most 500/)
  // counted in characters, not UTF-16 units: 500 emoji are allowed
  assert.equal(validateText('☕'.repeat(MAX_TEXT)).ok, true)
})

test('validateText removes bidi controls, so a todo cannot reorder the text around it', () => {
  assert.deepEqual(validateText(' pay \u202Eecnarusni\u202C today '), { ok: true, text: 'pay ecnarusni today' })
  assert.equal(validateText('\u2067\u2069').ok, false)
})

test('without a database URL the store is a SQLite file, its directory created', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dx-todo-')), 'nested', 'todo.db')
  const s1 = await openStore({ file, databaseUrl: '' })
  await s1.add('kept')
  await s1.close()
  const s2 = await openStore({ file })
  assert.deepEqual((await s2.list()).map((t) => t.text), ['kept'])
  await s2.close()
})
