import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SwrCache } from '../src/cache.js'

/** A load whose answers the test releases by hand. */
function manualLoad<T>() {
  const pending: Array<{ resolve: (v: T) => void; reject: (e: Error) => void }> = []
  const load = () => new Promise<T>((resolve, reject) => pending.push({ resolve, reject }))
  return { load, pending }
}
const tick = () => new Promise((r) => setImmediate(r))

test('a fresh value is served without loading again', async () => {
  let t = 0
  let loads = 0
  const cache = new SwrCache<number>({ ttlMs: 1000, now: () => t })
  const load = async () => ++loads
  assert.equal(await cache.get('k', load), 1)
  t = 999
  assert.equal(await cache.get('k', load), 1)
  assert.equal(loads, 1)
})

test('a stale value is served at once and refreshed behind, one refresh at a time', async () => {
  let t = 0
  const cache = new SwrCache<string>({ ttlMs: 1000, now: () => t })
  await cache.get('k', async () => 'old')
  t = 1000
  const { load, pending } = manualLoad<string>()
  assert.equal(await cache.get('k', load), 'old')
  assert.equal(await cache.get('k', load), 'old')
  assert.equal(await cache.get('k', load), 'old')
  await tick()
  assert.equal(pending.length, 1, 'one refresh in flight per key')
  assert.equal(cache.isLoading('k'), true)
  pending[0].resolve('new')
  await tick()
  assert.equal(await cache.get('k', load), 'new')
  assert.equal(pending.length, 1, 'fresh again: no further load')
})

test('a failed refresh keeps the stale value and reports the error', async () => {
  let t = 0
  const errors: string[] = []
  const cache = new SwrCache<string>({ ttlMs: 10, now: () => t, onRefreshError: (k, e) => errors.push(`${k}: ${(e as Error).message}`) })
  await cache.get('k', async () => 'kept')
  t = 50
  assert.equal(await cache.get('k', async () => { throw new Error('down') }), 'kept')
  await tick()
  assert.deepEqual(errors, ['k: down'])
  assert.equal(await cache.get('k', async () => 'back'), 'kept', 'still stale: served, refreshed behind')
  await tick()
  assert.equal(cache.peek('k'), 'back')
})

test('callers missing the same key share one load; a failed load caches nothing', async () => {
  const cache = new SwrCache<number>({ ttlMs: 1000 })
  const { load, pending } = manualLoad<number>()
  const a = cache.get('k', load)
  const b = cache.get('k', load)
  await tick()
  assert.equal(pending.length, 1)
  pending[0].reject(new Error('unreachable'))
  await assert.rejects(a, /unreachable/)
  await assert.rejects(b, /unreachable/)
  assert.equal(cache.peek('k'), undefined)
  assert.equal(await cache.get('k', async () => 7), 7)
})

test('a load that throws synchronously is a rejection, not a crash', async () => {
  const cache = new SwrCache<number>({ ttlMs: 1000 })
  await assert.rejects(cache.get('k', () => { throw new Error('sync') }), /sync/)
})

test('past max entries the oldest go first; clear forgets everything', async () => {
  const cache = new SwrCache<number>({ ttlMs: 1000, max: 2 })
  for (const k of ['a', 'b', 'c']) await cache.get(k, async () => 1)
  assert.equal(cache.peek('a'), undefined)
  assert.equal(cache.peek('c'), 1)
  cache.clear()
  assert.equal(cache.peek('c'), undefined)
})
