import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RateLimiter } from '../src/rate.js'

test('20 messages in 10 s pass, the 21st does not, and the window slides', () => {
  let now = 0
  const limit = new RateLimiter(20, 10_000, () => now)
  for (let i = 0; i < 20; i++) {
    now += 100
    assert.ok(limit.allow(), `message ${i + 1}`)
  }
  assert.equal(limit.allow(), false)
  assert.equal(limit.allow(), false, 'refused messages do not extend the wait')
  now = 100 + 10_000 // the first one has left the window
  assert.ok(limit.allow())
  assert.equal(limit.allow(), false)
})
