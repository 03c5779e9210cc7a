import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ReplicaStats } from '../src/health/stats.js'
import { Upstreams } from '../src/proxy/upstreams.js'

const urls = ['http://a:1', 'http://b:1', 'http://c:1'].map((u) => new URL(u))

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t }
  return c
}

const hosts = (u: Upstreams, n: number) => Array.from({ length: n }, () => u.pick()?.host)

test('round robin over replicas; unknown (not probed yet) counts as usable', () => {
  const u = new Upstreams(urls)
  assert.deepEqual(u.replicas.map((r) => r.health), ['unknown', 'unknown', 'unknown'])
  assert.deepEqual(hosts(u, 4), ['a:1', 'b:1', 'c:1', 'a:1'])
  assert.equal(u.size, 3)
  assert.equal(u.usable, 3)
})

test('down, draining and foreign replicas are skipped; up ones are used', () => {
  const u = new Upstreams(urls)
  u.replicas[0].setHealth('down', 'x')
  u.replicas[1].setHealth('up', '')
  u.replicas[2].setHealth('draining', 'x')
  assert.deepEqual(hosts(u, 3), ['b:1', 'b:1', 'b:1'])
  u.replicas[1].setHealth('foreign', 'not a distributex service')
  assert.equal(u.pick(), undefined)
  assert.equal(u.usable, 0)
  u.replicas[2].setHealth('up', '')
  assert.deepEqual(hosts(u, 2), ['c:1', 'c:1'])
})

test('a replica whose breaker is open is skipped; in half-open it gets exactly one trial', () => {
  const c = clock()
  const u = new Upstreams(urls, { now: c.now })
  for (let i = 0; i < 10; i++) u.report(urls[1], 'fail', 5, 'HTTP 500')
  assert.equal(u.replicas[1].breaker.state, 'open')
  assert.deepEqual(hosts(u, 4), ['a:1', 'c:1', 'a:1', 'c:1'])
  c.t += 5000
  assert.deepEqual(hosts(u, 6), ['a:1', 'b:1', 'c:1', 'a:1', 'c:1', 'a:1'], 'b once: the trial')
  u.report(urls[1], 'ok', 3)
  assert.equal(u.replicas[1].breaker.state, 'closed')
  assert.deepEqual(hosts(u, 3), ['b:1', 'c:1', 'a:1'])
})

test('pick is undefined when none is usable, and excluded ones are never returned', () => {
  const c = clock()
  const u = new Upstreams(urls, { now: c.now })
  assert.equal(u.pick(new Set(urls)), undefined)
  assert.equal(u.pick(new Set([urls[0], urls[1]]))!.host, 'c:1')
  assert.equal(u.pick(new Set([urls[0], urls[1]]))!.host, 'c:1')
  for (const x of urls) for (let i = 0; i < 5; i++) u.report(x, 'connect-fail', 0, 'ECONNREFUSED')
  const t0 = performance.now()
  assert.equal(u.pick(), undefined)
  assert.ok(performance.now() - t0 < 5)
  assert.equal(new Upstreams([]).pick(), undefined)
})

test('a connect failure passes the replica over at once, for 1 s or until it answers', () => {
  const c = clock()
  const u = new Upstreams(urls, { now: c.now })
  assert.equal(u.report(urls[1], 'connect-fail', 0, 'ECONNREFUSED'), true, 'first: a change to log')
  assert.equal(u.report(urls[1], 'connect-fail', 0, 'ECONNREFUSED'), false, 'logged once')
  assert.deepEqual(hosts(u, 4), ['a:1', 'c:1', 'a:1', 'c:1'])
  c.t += 1000
  assert.deepEqual(hosts(u, 3), ['a:1', 'b:1', 'c:1'])
  assert.equal(u.report(urls[1], 'ok', 2), true, 'answering again: a change to log')
  assert.equal(u.report(urls[1], 'ok', 2), false)
  assert.deepEqual(u.replicas[1].lastError, { message: 'ECONNREFUSED', at: 1_000_000 })
})

test('markDown and markUp keep their meaning: a change of state is reported once', () => {
  const u = new Upstreams(urls, { now: () => 5 })
  assert.equal(u.markDown(urls[0]), true)
  assert.equal(u.markDown(urls[0]), false)
  assert.deepEqual(hosts(u, 2), ['b:1', 'c:1'])
  assert.equal(u.markUp(urls[0]), true)
  assert.equal(u.markUp(urls[0]), false)
  assert.equal(u.markDown(new URL('http://elsewhere:1')), false)
  // A URL with the same origin finds the same replica.
  assert.equal(u.markDown(new URL('http://a:1/')), true)
})

test('stats: requests per second over the last 10 s', () => {
  const c = clock()
  const s = new ReplicaStats({ now: c.now })
  for (let i = 0; i < 50; i++) {
    s.record(10)
    c.t += 100 // 10 per second for 5 s
  }
  assert.equal(s.rps(), 5)
  c.t += 4000
  assert.equal(s.rps(), 5, 'still inside the 10 s')
  c.t += 6000
  assert.equal(s.rps(), 0, 'all older than 10 s')
  assert.equal(s.total, 50)
})

test('stats: p50 and p99 over a bounded window of the most recent requests', () => {
  const c = clock()
  const s = new ReplicaStats({ now: c.now, samples: 1000 })
  assert.equal(s.percentiles(), undefined)
  for (let i = 1; i <= 100; i++) s.record(i)
  assert.deepEqual(s.percentiles(), { p50: 50, p99: 99, samples: 100 })
  // 2,000 more: only the last 1,000 count (all 1000 ms).
  for (let i = 0; i < 2000; i++) s.record(1000)
  assert.deepEqual(s.percentiles(), { p50: 1000, p99: 1000, samples: 1000 })
  // A connect failure counts as a request but has no latency.
  s.record(-1, true)
  assert.equal(s.percentiles()!.samples, 1000)
  c.t += 61_000
  assert.equal(s.percentiles(), undefined, 'older than a minute')
})

test('reports feed the snapshot: rps, p50/p99, breaker, last error', () => {
  const c = clock(Date.parse('2030-01-01T00:00:00Z'))
  const u = new Upstreams([urls[0]], { now: c.now })
  for (let i = 1; i <= 20; i++) u.report(urls[0], 'ok', i)
  u.report(urls[0], 'fail', 5000, 'no response within 5000 ms')
  const s = u.replicas[0].snapshot()
  assert.equal(s.url, 'http://a:1')
  assert.equal(s.health, 'unknown')
  assert.equal(s.usable, true)
  assert.equal(s.rps, 2.1)
  assert.equal(s.p50Ms, 11)
  assert.equal(s.p99Ms, 5000)
  assert.equal(s.requests, 21)
  assert.deepEqual(s.breaker, { state: 'closed', since: '2030-01-01T00:00:00.000Z', failuresInWindow: 1, requestsInWindow: 21 })
  assert.deepEqual(s.lastError, { message: 'no response within 5000 ms', at: '2030-01-01T00:00:00.000Z' })
  assert.doesNotThrow(() => JSON.stringify(s))
})
