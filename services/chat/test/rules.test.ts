import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkText, nickError, parseFrame, roomError } from '../src/rules.js'

test('nicknames: 1–24 letters, digits, _ - .', () => {
  for (const ok of ['a', 'alice', 'Bob_2', 'x.y-z', 'n'.repeat(24)]) assert.equal(nickError(ok), null, ok)
  assert.match(nickError('')!, /Pick a nickname/)
  assert.match(nickError(undefined)!, /Pick a nickname/)
  assert.match(nickError('n'.repeat(25))!, /too long: 25 characters, at most 24/)
  for (const bad of ['al ice', '<b>', 'zoë', 'a/b', 'a\n']) assert.match(nickError(bad)!, /only use letters/, bad)
})

test('room names: 1–32 of the same characters', () => {
  assert.equal(roomError('lobby'), null)
  assert.equal(roomError('r'.repeat(32)), null)
  assert.match(roomError('r'.repeat(33))!, /at most 32/)
  assert.match(roomError('')!, /Pick a room name/)
  assert.match(roomError('#general')!, /only use letters/)
})

test('messages: trimmed, 1–1000 characters', () => {
  assert.deepEqual(checkText('  hi  '), { ok: true, text: 'hi' })
  assert.deepEqual(checkText('☕'.repeat(1000)), { ok: true, text: '☕'.repeat(1000) })
  assert.match((checkText('   ') as { error: string }).error, /Write a message/)
  assert.match((checkText('x'.repeat(1001)) as { error: string }).error, /1001 characters, at most 1000/)
  assert.equal(checkText(42).ok, false)
})

test('frames: the JSON htmx-ext-ws sends, or a reason to close', () => {
  const frame = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))
  assert.deepEqual(parseFrame(frame({ text: 'hi', HEADERS: { 'HX-Request': 'true' } }), false), { ok: true, text: 'hi' })
  assert.match((parseFrame(frame({ text: 'hi' }), true) as { reason: string }).reason, /binary/)
  assert.match((parseFrame(frame('nope'), false) as { reason: string }).reason, /not JSON/)
  assert.match((parseFrame(frame([1]), false) as { reason: string }).reason, /not a JSON object/)
  assert.match((parseFrame(frame({ text: 5 }), false) as { reason: string }).reason, /no "text" string/)
  assert.match((parseFrame(frame({ text: 'x'.repeat(17_000) }), false) as { reason: string }).reason, /at most 16384/)
})

test('bidi controls are removed from messages: they would reorder the room for everyone', () => {
  assert.deepEqual(checkText('see \u202Egnp.exe\u202C now'), { ok: true, text: 'see gnp.exe now' })
  assert.deepEqual(checkText(' \u2066\u2067\u2068\u2069 '), { ok: false, error: 'Write a message first.' })
})
