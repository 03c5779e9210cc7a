import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Deadlines, type Expiring } from '../src/proxy/deadlines.js'

function item(name: string, deadline: number, fired: string[], onExpire?: (x: Expiring) => void): Expiring {
  const x: Expiring = {
    deadline,
    prevWatched: null,
    nextWatched: null,
    expire() {
      fired.push(name)
      onExpire?.(x)
    },
  }
  return x
}

test('only what is past its deadline expires, once, and leaves the list', () => {
  const d = new Deadlines(60_000)
  const fired: string[] = []
  const now = Date.now()
  const [a, b, c, e] = [item('a', now - 1, fired), item('b', now + 60_000, fired), item('c', now - 5, fired), item('e', now - 1, fired)]
  for (const x of [a, b, c, e]) d.watch(x)
  d.watch(a) // twice is once
  assert.equal(d.size, 4)
  d.unwatch(e)
  d.unwatch(e)
  d.check()
  assert.deepEqual(fired, ['a', 'c'])
  assert.equal(d.size, 1)
  d.check()
  assert.deepEqual(fired, ['a', 'c'])
  // What left the list holds no link into it.
  for (const x of [a, c, e]) assert.deepEqual([x.prevWatched, x.nextWatched], [null, null])
  d.unwatch(b)
  assert.equal(d.size, 0)
})

test('an expiry may watch itself again with a new deadline (a retry arms its next wait)', () => {
  const d = new Deadlines(60_000)
  const fired: string[] = []
  const now = Date.now()
  const retry = item('retry', now - 1, fired, (x) => {
    x.deadline = Date.now() + 60_000
    d.watch(x)
  })
  const other = item('other', now - 1, fired)
  d.watch(retry)
  d.watch(other)
  d.check()
  assert.deepEqual(fired, ['retry', 'other'])
  assert.equal(d.size, 1)
  d.check()
  assert.deepEqual(fired, ['retry', 'other'])
  d.unwatch(retry)
})

test('the ticker fires past deadlines by itself', async () => {
  const d = new Deadlines(5)
  const fired: string[] = []
  d.watch(item('soon', Date.now() + 10, fired))
  await new Promise((r) => setTimeout(r, 60))
  assert.deepEqual(fired, ['soon'])
  assert.equal(d.size, 0)
})
