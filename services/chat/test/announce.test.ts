import assert from 'node:assert/strict'
import { test } from 'node:test'
import { announcement, MAX_QUOTED, quoted } from '../src/announce.js'
import { MAX_TEXT } from '../src/rules.js'

test('what the room is told for each event, with the actor or "someone"', () => {
  assert.equal(announcement({ name: 'todo:added', detail: { id: 1, text: 'buy milk' }, actor: 'ana' }), 'ana added a todo: buy milk')
  assert.equal(announcement({ name: 'todo:removed', detail: { id: 1, text: 'buy milk' }, actor: 'ana' }), 'ana removed a todo: buy milk')
  assert.equal(announcement({ name: 'news:favorited', detail: { id: 7, title: 'Show HN: htmx' }, actor: 'bo.b' }), 'bo.b favourited: Show HN: htmx')
  assert.equal(announcement({ name: 'todo:added', detail: { id: 1, text: 'buy milk' } }), 'someone added a todo: buy milk')
  assert.equal(announcement({ name: 'todo:updated', detail: {}, actor: 'ana' }), null)
})

test('a detail without the field (or not an object) still says what happened', () => {
  assert.equal(announcement({ name: 'todo:added', detail: null, actor: 'ana' }), 'ana added a todo')
  assert.equal(announcement({ name: 'todo:added', detail: { text: 42 }, actor: 'ana' }), 'ana added a todo')
  assert.equal(announcement({ name: 'news:favorited', detail: ['x'] }), 'someone favourited')
  assert.equal(announcement({ name: 'todo:removed', detail: { text: ' \n\t ' } }), 'someone removed a todo')
})

test('quoted text: one line, no bidi controls, long titles cut with … within the message rules', () => {
  assert.equal(quoted('  two\nlines\u0000and\ttabs '), 'two lines and tabs')
  assert.equal(quoted('abc\u202Edef\u2066'), 'abcdef')
  const long = quoted('☕'.repeat(5000))
  assert.equal([...long].length, MAX_QUOTED)
  assert.ok(long.endsWith('…'))
  const text = announcement({ name: 'news:favorited', detail: { title: 'x'.repeat(8000) }, actor: 'a'.repeat(24) })!
  assert.ok([...text].length <= MAX_TEXT, `${[...text].length} characters`)
  assert.equal(quoted('y'.repeat(MAX_QUOTED)), 'y'.repeat(MAX_QUOTED))
})
