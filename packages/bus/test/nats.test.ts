import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BusConfigError, BusFullError, createBus, natsBus, natsServers, waitConnected, type BusState } from '../src/index.js'
import { quiet, runPrefix, until } from './contract.js'
import { freePort, needsNatsServer } from '@dx/testkit'
import { OwnNatsServer } from './nats-server.js'

const NATS = process.env.DX_TEST_NATS_URL
// Skipped with the reason without DX_TEST_NATS_URL or a nats-server binary; a failure under DX_REQUIRE_SERVICES=1.
const skip = needsNatsServer()

test('DX_BUS: memory by default, NATS for nats:// lists, a clear error for anything else', async () => {
  for (const url of [undefined, '', 'memory', ' MEMORY ']) {
    const bus = createBus({ url, log: quiet })
    assert.equal(bus.status().kind, 'memory')
    await bus.close()
  }
  assert.deepEqual(natsServers('nats://a:4222, nats://b:4223'), ['nats://a:4222', 'nats://b:4223'])
  assert.equal(natsServers('redis://x'), null)
  assert.throws(() => createBus({ url: 'redis://x:6379', log: quiet }), (e) => e instanceof BusConfigError && /expected "memory" or nats:\/\/host:port/.test(e.message))
  assert.throws(() => createBus({ url: 'nats://a:4222,http://b', log: quiet }), BusConfigError)
  assert.throws(() => createBus({ url: 'nats://a:4222/path', log: quiet }), /not a NATS server address/)
  assert.throws(() => createBus({ url: 'memory', prefix: 'a b', log: quiet }), /DX_BUS_PREFIX/)
})

test('NATS bus: two connections in one queue group share the messages, each once', { skip }, async () => {
  const prefix = runPrefix()
  const [a, b, pub] = [0, 1, 2].map(() => createBus({ url: NATS, log: quiet, prefix }))
  for (const bus of [a, b, pub]) assert.ok(await waitConnected(bus, 5000))
  const got: number[][] = [[], []]
  a.subscribe('work.*', (d) => void got[0].push(d as number), { queue: 'g' })
  b.subscribe('work.*', (d) => void got[1].push(d as number), { queue: 'g' })
  // A subscription reaches the server asynchronously: wait until both have taken a message.
  let n = 0
  while (got[0].length === 0 || got[1].length === 0) {
    await pub.publish('work.warm', -1)
    await new Promise((r) => setTimeout(r, 10))
    assert.ok(++n < 500, 'both members got something')
  }
  got[0].length = got[1].length = 0
  for (let i = 0; i < 100; i++) await pub.publish('work.x', i)
  await until(() => got[0].length + got[1].length >= 100, 'a hundred messages')
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual([...got[0], ...got[1]].filter((x) => x >= 0).sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i))
  await Promise.all([a, b, pub].map((bus) => bus.close()))
})

test('NATS bus: not reachable at start, it keeps trying, holds publishes and sends them once connected', { skip }, async () => {
  const server = new OwnNatsServer(await freePort())
  const bus = natsBus({ servers: [server.url], log: quiet, reconnectWaitMs: 50, jitterMs: 50, connectTimeoutMs: 1000 })
  try {
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(bus.status().state, 'connecting')
    const got: unknown[] = []
    bus.subscribe('early', (d) => void got.push(d))
    await bus.publish('early', 'held')
    assert.equal(bus.status().buffered, 1)
    await server.start()
    assert.ok(await waitConnected(bus, 10_000), 'connects once the server is there')
    await until(() => got.length === 1, 'the held message')
    assert.deepEqual(got, ['held'])
    assert.equal(bus.status().buffered, 0)
  } finally {
    await bus.close()
    await server.kill()
  }
})

test('NATS bus: reconnects after its server dies and comes back; holds a bounded number of publishes meanwhile', { skip }, async () => {
  const server = await new OwnNatsServer(await freePort()).start()
  const bus = natsBus({ servers: [server.url], log: quiet, reconnectWaitMs: 50, jitterMs: 50, maxBuffered: 3, connectTimeoutMs: 1000 })
  try {
    const states: BusState[] = []
    bus.onStatus((s) => states.push(s.state))
    assert.ok(await waitConnected(bus, 5000))
    const got: unknown[] = []
    bus.subscribe('r.x', (d) => void got.push(d))
    await until(
      () => {
        void bus.publish('r.x', 'before')
        return got.length > 0
      },
      'a message before the loss',
    )
    got.length = 0

    const from = states.length
    await server.kill()
    await until(() => bus.status().state === 'reconnecting', 'the loss to be noticed')
    for (const m of [1, 2, 3]) await bus.publish('r.x', m)
    await assert.rejects(bus.publish('r.x', 4), BusFullError)
    assert.deepEqual({ buffered: bus.status().buffered, dropped: bus.status().dropped }, { buffered: 3, dropped: 1 })

    await server.start()
    assert.ok(await waitConnected(bus, 15_000), 'reconnects on the same port')
    await bus.publish('r.x', 5)
    // Late copies of the first message may still come in: only the others are counted.
    await until(() => got.filter((m) => m !== 'before').length >= 4, 'the held messages and a new one')
    assert.deepEqual(got.filter((m) => m !== 'before'), [1, 2, 3, 5], 'held messages go first, in order; the refused one never')
    assert.deepEqual([...new Set(states.slice(from))], ['reconnecting', 'connected'], 'reconnecting, then connected')
  } finally {
    await bus.close()
    await server.kill()
  }
})
