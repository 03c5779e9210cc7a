import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Presence } from '../src/presence.js'

test('a nickname is unique per room regardless of case, free in other rooms', () => {
  const p = new Presence<string>()
  assert.deepEqual(p.join('lobby', 'Alice', 's1', 'c1'), { ok: true, replaced: undefined })
  assert.deepEqual(p.join('lobby', 'alice', 's2', 'c2'), { ok: false })
  assert.ok(p.isTaken('lobby', 'ALICE'))
  assert.ok(p.join('dev', 'alice', 's2', 'c2').ok)
  assert.deepEqual(p.rooms(), [
    { room: 'dev', count: 1 },
    { room: 'lobby', count: 1 },
  ])
})

test('the same session takes its place over; the old socket closing does not remove it', () => {
  const p = new Presence<string>()
  p.join('lobby', 'bob', 's1', 'old')
  assert.deepEqual(p.join('lobby', 'bob', 's1', 'new'), { ok: true, replaced: 'old' })
  assert.equal(p.leave('lobby', 'bob', 'old'), false)
  assert.deepEqual(p.connections('lobby'), ['new'])
  assert.equal(p.leave('lobby', 'bob', 'new'), true)
  assert.deepEqual(p.rooms(), [], 'an empty room disappears')
})

test('members are listed sorted, rooms busiest first', () => {
  const p = new Presence<number>()
  p.join('a', 'zed', 's1', 1)
  p.join('a', 'Amy', 's2', 2)
  p.join('a', 'bob', 's3', 3)
  p.join('b', 'cy', 's4', 4)
  assert.deepEqual(p.members('a'), ['Amy', 'bob', 'zed'])
  assert.deepEqual(p.rooms().map((r) => r.room), ['a', 'b'])
})
