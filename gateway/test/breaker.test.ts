import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Breaker, type BreakerChange } from '../src/health/breaker.js'

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t }
  return c
}

const times = (n: number, f: () => void) => {
  for (let i = 0; i < n; i++) f()
}

test('fewer than 10 requests never open it on the ratio, however many failed', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(9, () => b.failure('other'))
  assert.equal(b.state, 'closed')
  assert.equal(b.failuresInWindow, 9)
  assert.equal(b.allow(), true)
  b.failure('other')
  assert.equal(b.state, 'open')
})

test('it opens when half of at least 10 requests in the window failed, not below half', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(6, () => b.success())
  times(4, () => b.failure('other'))
  assert.equal(b.state, 'closed', '4 of 10')
  b.success()
  assert.equal(b.state, 'closed', '4 of 11')
  b.failure('other')
  assert.equal(b.state, 'closed', '5 of 12')
  b.failure('other')
  assert.equal(b.state, 'closed', '6 of 13')
  b.failure('other')
  assert.equal(b.state, 'open', '7 of 14')
})

test('failures first and successes after still count: 5 failed of 10 opens it', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(5, () => b.failure('other'))
  times(4, () => b.success())
  assert.equal(b.state, 'closed')
  b.success()
  assert.equal(b.state, 'open')
})

test('the window slides: failures older than 10 s are forgotten', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(9, () => b.failure('other'))
  c.t += 10_500
  assert.equal(b.failuresInWindow, 0)
  b.failure('other')
  assert.equal(b.state, 'closed')
  assert.equal(b.requestsInWindow, 1)
})

test('5 connect failures in a row open it, even with few requests; anything in between resets the run', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(50, () => b.success())
  times(4, () => b.failure('connect'))
  b.success()
  times(4, () => b.failure('connect'))
  b.failure('other')
  times(4, () => b.failure('connect'))
  assert.equal(b.state, 'closed')
  assert.equal(b.connectFailures, 4)
  b.failure('connect')
  assert.equal(b.state, 'open')
})

test('open for 5 s, then exactly one trial; a success closes it with a fresh window', () => {
  const c = clock()
  const changes: BreakerChange[] = []
  const b = new Breaker({ now: c.now })
  b.onChange = (ch) => changes.push(ch)
  times(5, () => b.failure('connect'))
  assert.equal(b.state, 'open')
  const openedAt = c.t
  assert.equal(b.since, openedAt)
  assert.equal(b.retryAt, openedAt + 5000)
  c.t += 4999
  assert.equal(b.allow(), false)
  assert.equal(b.state, 'open')
  c.t += 1
  assert.equal(b.state, 'half-open')
  assert.equal(b.allow(), true, 'the trial')
  assert.equal(b.allow(), false, 'only one trial')
  assert.equal(b.allow(), false)
  b.success()
  assert.equal(b.state, 'closed')
  assert.equal(b.failuresInWindow, 0, 'a closed breaker starts afresh')
  assert.equal(b.allow(), true)
  b.failure('other')
  assert.equal(b.state, 'closed', 'one failure after closing does not reopen it')
  assert.deepEqual(
    changes.map((ch) => `${ch.from}>${ch.to}`),
    ['closed>open', 'open>half-open', 'half-open>closed'],
  )
  assert.match(changes[0].why, /5 connect failures in a row/)
})

test('a failed trial opens it again for another 5 s', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(10, () => b.failure('other'))
  c.t += 5000
  assert.equal(b.allow(), true)
  b.failure('other')
  assert.equal(b.state, 'open')
  assert.equal(b.since, c.t)
  c.t += 4000
  assert.equal(b.allow(), false)
  c.t += 1000
  assert.equal(b.allow(), true)
  b.failure('connect')
  assert.equal(b.state, 'open')
})

test('outcomes of requests started before it opened do not decide anything', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(5, () => b.failure('connect'))
  b.success()
  assert.equal(b.state, 'open', 'a late success while open')
  c.t += 5000
  assert.equal(b.state, 'half-open')
  b.success()
  assert.equal(b.state, 'half-open', 'no trial was let through yet')
  assert.equal(b.allow(), true)
  b.success()
  assert.equal(b.state, 'closed')
})

test('a trial that never reports is written off after trialTimeoutMs', () => {
  const c = clock()
  const b = new Breaker({ now: c.now, trialTimeoutMs: 1000 })
  times(5, () => b.failure('connect'))
  c.t += 5000
  assert.equal(b.allow(), true)
  c.t += 999
  assert.equal(b.allow(), false)
  c.t += 1
  assert.equal(b.allow(), true)
})

test('release() frees the trial of a request that ended without an outcome', () => {
  const c = clock()
  const b = new Breaker({ now: c.now })
  times(5, () => b.failure('connect'))
  c.t += 5000
  assert.equal(b.allow(), true)
  assert.equal(b.allow(), false)
  b.release()
  assert.equal(b.state, 'half-open')
  assert.equal(b.allow(), true, 'the next request is the trial')
  b.success()
  assert.equal(b.state, 'closed')
  b.release()
  assert.equal(b.state, 'closed', 'nothing to release when closed')
})
