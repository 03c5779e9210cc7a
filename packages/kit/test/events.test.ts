import assert from 'node:assert/strict'
import { test } from 'node:test'
import { envelopeError, makeEnvelope, MAX_DETAIL_BYTES, relayError, replayError, SeenIds, sign, verify } from '../src/events.js'

test('an envelope has a fresh id, the time, and actor and client only when well-formed', () => {
  const now = new Date('2026-11-23T10:00:00Z')
  const a = makeEnvelope({ name: 'todo:added', detail: { id: 1 }, source: 'todo', actor: 'ana', client: 'page-12345678' }, now)
  const b = makeEnvelope({ name: 'todo:added', detail: { id: 1 }, source: 'todo' }, now)
  assert.match(a.id, /^[0-9a-f-]{36}$/)
  assert.notEqual(a.id, b.id)
  assert.equal(a.time, '2026-11-23T10:00:00.000Z')
  assert.deepEqual({ ...a, id: 'x' }, { id: 'x', name: 'todo:added', detail: { id: 1 }, source: 'todo', time: a.time, actor: 'ana', client: 'page-12345678' })
  assert.equal(b.actor, undefined)
  const bad = makeEnvelope({ name: 'todo:added', detail: null, source: 'todo', actor: '<script>', client: 'x' }, now)
  assert.equal(bad.actor, undefined)
  assert.equal(bad.client, undefined)
  assert.equal(envelopeError(a), null)
})

test('sign and verify: the hex HMAC of the exact body', () => {
  const body = '{"id":"1","name":"todo:added"}'
  // echo -n '{"id":"1","name":"todo:added"}' | openssl dgst -sha256 -hmac secret
  assert.equal(sign(body, 'secret'), 'e7160a3b4aa5b10c761a93c1da86b5e64df87d277f0788d45e2d387badc2b74f')
  assert.equal(verify(body, sign(body, 'secret'), 'secret'), true)
  assert.equal(verify(body, `sha256=${sign(body, 'secret')}`, 'secret'), true)
  assert.equal(verify(body + ' ', sign(body, 'secret'), 'secret'), false)
  assert.equal(verify(body, sign(body, 'other'), 'secret'), false)
  assert.equal(verify(body, undefined, 'secret'), false)
  assert.equal(verify(body, 'zz', 'secret'), false)
})

test('only service:verb names and small JSON details are relayed', () => {
  assert.equal(relayError('todo:added', { id: 1 }), null)
  for (const name of ['Todo:added', 'todo', 'todo:', ':x', 'todo:add ed', 'a:b:c', 'todo.added']) assert.match(relayError(name, null)!, /service:verb/, name)
  assert.match(relayError('a:b', 'x'.repeat(MAX_DETAIL_BYTES))!, /over 8192 bytes/)
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.match(relayError('a:b', cyclic)!, /not JSON/)
})

test('the replay window: 10 minutes either way', () => {
  const now = Date.parse('2026-11-23T10:00:00Z')
  assert.equal(replayError('2026-11-23T09:51:00Z', now), null)
  assert.equal(replayError('2026-11-23T10:09:00Z', now), null)
  assert.match(replayError('2026-11-23T09:49:00Z', now)!, /11 minutes old/)
  assert.match(replayError('2026-11-23T10:30:00Z', now)!, /30 minutes ahead/)
})

test('envelope shape errors name the field', () => {
  const ok = { id: '1', name: 'a:b', source: 'todo', time: new Date().toISOString(), detail: null }
  assert.equal(envelopeError(ok), null)
  assert.match(envelopeError([])!, /JSON object/)
  assert.match(envelopeError({ ...ok, id: '' })!, /^id/)
  assert.match(envelopeError({ ...ok, name: 'nope' })!, /^name/)
  assert.match(envelopeError({ ...ok, source: 'Bad Source' })!, /^source/)
  assert.match(envelopeError({ ...ok, time: 'yesterday' })!, /^time/)
  assert.match(envelopeError({ ...ok, actor: 'x y' })!, /^actor/)
  assert.match(envelopeError({ ...ok, detail: 'x'.repeat(9000) })!, /over/)
})

test('seen ids are bounded, oldest forgotten first', () => {
  const s = new SeenIds(2)
  assert.equal(s.add('a'), true)
  assert.equal(s.add('a'), false)
  s.add('b')
  s.add('c')
  assert.equal(s.has('a'), false)
  assert.equal(s.has('c'), true)
})
