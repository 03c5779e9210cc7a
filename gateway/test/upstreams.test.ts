import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Upstreams } from '../src/proxy/upstreams.js'

const urls = ['http://a:1', 'http://b:1', 'http://c:1'].map((u) => new URL(u))

test('round robin over replicas', () => {
  const u = new Upstreams(urls)
  assert.deepEqual([1, 2, 3, 4].map(() => u.pick()!.host), ['a:1', 'b:1', 'c:1', 'a:1'])
})

test('a replica marked down is skipped until its backoff ends', () => {
  let now = 0
  const u = new Upstreams(urls, 1000, () => now)
  u.markDown(urls[1])
  assert.deepEqual([1, 2, 3, 4].map(() => u.pick()!.host), ['a:1', 'c:1', 'a:1', 'c:1'])
  now = 1001
  assert.deepEqual([1, 2, 3].map(() => u.pick()!.host), ['a:1', 'b:1', 'c:1'])
})

test('when all are down one is still tried, and excluded ones are avoided', () => {
  const u = new Upstreams(urls, 1000, () => 0)
  urls.forEach((x) => u.markDown(x))
  assert.ok(u.pick())
  assert.equal(u.pick(new Set([urls[0], urls[1]]))!.host, 'c:1')
  assert.equal(new Upstreams([]).pick(), undefined)
})

test('markDown and markUp report a change of state once', () => {
  const u = new Upstreams(urls, 1000, () => 5)
  assert.equal(u.markDown(urls[0]), true)
  assert.equal(u.markDown(urls[0]), false)
  assert.equal(u.markUp(urls[0]), true)
  assert.equal(u.markUp(urls[0]), false)
})
