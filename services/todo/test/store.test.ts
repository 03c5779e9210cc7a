import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { MAX_TEXT, openStore, validateText } from '../src/store.js'

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

test('add, list oldest first, mark done and undo, remove', () => {
  const store = openStore(':memory:')
  const a = store.add('first')
  const b = store.add('second')
  assert.deepEqual(store.list().map((t) => t.text), ['first', 'second'])
  assert.equal(store.setDone(a.id, true)!.done, true)
  assert.equal(store.get(a.id)!.done, true)
  assert.equal(store.setDone(a.id, false)!.done, false)
  assert.equal(store.remove(b.id)!.text, 'second')
  assert.deepEqual(store.list().map((t) => t.id), [a.id])
})

test('unknown ids give undefined, not errors', () => {
  const store = openStore(':memory:')
  assert.equal(store.get(99), undefined)
  assert.equal(store.setDone(99, true), undefined)
  assert.equal(store.remove(99), undefined)
})

test('a file store creates its directory and keeps todos across reopen', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dx-todo-')), 'nested', 'todo.db')
  const s1 = openStore(file)
  s1.add('kept')
  s1.close()
  const s2 = openStore(file)
  assert.deepEqual(s2.list().map((t) => t.text), ['kept'])
  s2.close()
})
