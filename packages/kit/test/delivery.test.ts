import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeliveryQueue, retryDelays } from '../src/delivery.js'

test('the retry schedule: 100 ms doubling to 5 s, 8 tries', () => {
  assert.deepEqual(retryDelays(), [100, 200, 400, 800, 1600, 3200, 5000])
})

test('a failing destination is tried again until it answers; order is kept', async () => {
  const got: number[] = []
  let failures = 3
  const q = new DeliveryQueue<number>({
    delays: [1, 1, 1, 1],
    send: async (n) => {
      if (n === 1 && failures-- > 0) throw new Error('down')
      got.push(n)
    },
  })
  for (const n of [1, 2, 3]) q.push(n)
  await q.drained()
  await new Promise((r) => setTimeout(r, 5))
  assert.deepEqual(got, [1, 2, 3])
  assert.equal(q.delivered, 3)
})

test('after its last try an item is given up and counted, and the next one goes', async () => {
  const gaveUp: number[] = []
  const q = new DeliveryQueue<number>({
    delays: [1, 1],
    send: async (n) => {
      if (n === 1) throw new Error('always')
    },
    onGaveUp: (n) => gaveUp.push(n),
  })
  q.push(1)
  q.push(2)
  await q.drained()
  await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(gaveUp, [1])
  assert.equal(q.gaveUp, 1)
  assert.equal(q.delivered, 1)
})

test('the queue is bounded: when full, the oldest waiting item is dropped and counted', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const sent: number[] = []
  const dropped: number[] = []
  const q = new DeliveryQueue<number>({
    max: 3,
    send: async (n) => {
      await gate
      sent.push(n)
    },
    onDropped: (n) => dropped.push(n),
  })
  for (let n = 1; n <= 6; n++) q.push(n)
  // 1 is in flight and kept; 2, 3 and 4 made room for 4, 5 and 6 in turn.
  assert.equal(q.size, 3)
  assert.deepEqual(dropped, [2, 3, 4])
  assert.equal(q.dropped, 3)
  release()
  await q.drained()
  await new Promise((r) => setTimeout(r, 5))
  assert.deepEqual(sent, [1, 5, 6])
})

test('a permanent failure (permanent() says so) is given up at once, without the other tries', async () => {
  const tries: number[] = []
  const gaveUp: Array<[number, string]> = []
  const retries: number[] = []
  class Refused extends Error {}
  const q = new DeliveryQueue<number>({
    delays: [1, 1, 1, 1],
    permanent: (err) => err instanceof Refused,
    send: async (n) => {
      tries.push(n)
      if (n === 1) throw new Refused('answered 401')
      if (n === 2 && tries.filter((t) => t === 2).length < 3) throw new Error('down for a moment')
    },
    onGaveUp: (n, err) => gaveUp.push([n, (err as Error).message]),
    onRetry: (n) => retries.push(n),
  })
  q.push(1)
  q.push(2)
  await q.drained()
  await new Promise((r) => setTimeout(r, 10))
  // 1 is tried once; 2 fails twice (not permanent), then goes through.
  assert.deepEqual(tries, [1, 2, 2, 2])
  assert.deepEqual(gaveUp, [[1, 'answered 401']])
  assert.deepEqual(retries, [2, 2])
  assert.equal(q.gaveUp, 1)
  assert.equal(q.delivered, 1)
})
