import assert from 'node:assert/strict'
import { test } from 'node:test'
import { matches, memoryBus, subjectError } from '../src/index.js'

test('subjects match NATS-style: * is one token, a final > is the rest', () => {
  assert.ok(matches('dx.chat.lobby', 'dx.chat.lobby'))
  assert.ok(!matches('dx.chat.lobby', 'dx.chat.other'))
  assert.ok(matches('dx.chat.*', 'dx.chat.lobby'))
  assert.ok(!matches('dx.chat.*', 'dx.chat.lobby.x'))
  assert.ok(matches('dx.>', 'dx.chat.lobby'))
  assert.ok(!matches('dx.chat.>', 'dx.chat'))
  assert.ok(!matches('dx.chat', 'dx.chat.lobby'))
})

test('bad subjects are refused with a message', () => {
  assert.match(subjectError('')!, /non-empty/)
  assert.match(subjectError('dx..x')!, /token 2/)
  assert.match(subjectError('dx.*')!, /token 2/)
  assert.equal(subjectError('dx.*.>', true), null)
  assert.match(subjectError('dx.>.x', true)!, /token 2/)
})

test('memory bus delivers in order to matching subscribers only, after publish returns control', async () => {
  const bus = memoryBus()
  const got: string[] = []
  bus.subscribe('dx.chat.lobby', (d) => void got.push(`lobby:${d}`))
  bus.subscribe('dx.chat.*', (d, s) => void got.push(`any:${s}:${d}`))
  bus.subscribe('dx.chat.other', (d) => void got.push(`other:${d}`))
  const p = bus.publish('dx.chat.lobby', 1)
  assert.deepEqual(got, [], 'delivery is asynchronous')
  await p
  await bus.publish('dx.chat.lobby', 2)
  assert.deepEqual(got, ['lobby:1', 'any:dx.chat.lobby:1', 'lobby:2', 'any:dx.chat.lobby:2'])
})

test('unsubscribe stops delivery; a failing handler does not stop the others', async () => {
  const errors: unknown[] = []
  const bus = memoryBus((e) => errors.push(e))
  const got: unknown[] = []
  bus.subscribe('a', () => {
    throw new Error('boom')
  })
  const off = bus.subscribe('a', (d) => void got.push(d))
  await bus.publish('a', 1)
  off()
  await bus.publish('a', 2)
  assert.deepEqual(got, [1])
  assert.equal(errors.length, 2)
  await bus.close()
  await assert.rejects(bus.publish('a', 3), /closed/)
})
