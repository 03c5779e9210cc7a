import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { waitConnected, type Bus } from '../src/index.js'

/** A fresh bus; `onError` gets what its handlers throw. */
export type MakeBus = (onError: (e: unknown, subject: string) => void) => Promise<Bus>

export const quiet = { info() {}, warn() {}, error() {} }
/** A prefix no other run uses, so runs on one NATS server never see each other. */
export const runPrefix = () => `t${randomUUID().replaceAll('-', '')}`

/** Polls `ok` until it holds, or fails after `ms` with `what`. */
export async function until(ok: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/**
 * Waits until everything published before now on `bus` has been delivered: messages of
 * one publisher arrive in order, so once a marker comes back, so has all before it.
 */
async function settle(bus: Bus) {
  const id = randomUUID()
  let seen = false
  const off = bus.subscribe('contract.barrier', (d) => void (d === id && (seen = true)))
  await bus.publish('contract.barrier', id)
  await until(() => seen, 'the barrier message')
  off()
}

/** What every bus must do, memory or NATS: the same tests run against each. */
export function busContract(kind: string, make: MakeBus, skip?: string) {
  const t = (name: string, fn: () => Promise<void>) => test(`${kind} bus: ${name}`, { skip }, fn)

  t('is connected once started, reports closed and refuses publishes after close', async () => {
    const bus = await make(() => {})
    assert.ok(await waitConnected(bus, 5000))
    assert.equal(bus.status().state, 'connected')
    const seen: string[] = []
    bus.onStatus((s) => seen.push(s.state))
    await bus.close()
    assert.equal(bus.status().state, 'closed')
    assert.deepEqual(seen, ['closed'])
    await assert.rejects(bus.publish('a', 1), /closed/)
  })

  t('delivers in order to matching subscribers only, after publish returns control', async () => {
    const bus = await make(() => {})
    const got: string[] = []
    bus.subscribe('dx.chat.lobby', (d) => void got.push(`lobby:${d}`))
    bus.subscribe('dx.chat.*', (d, s) => void got.push(`any:${s}:${d}`))
    bus.subscribe('dx.chat.other', (d) => void got.push(`other:${d}`))
    bus.subscribe('dx.>', (d, s) => void got.push(`all:${s}:${d}`))
    const p = bus.publish('dx.chat.lobby', 1)
    assert.equal(got.length, 0, 'delivery is asynchronous')
    await p
    await bus.publish('dx.chat.lobby', 2)
    await bus.publish('dx.chat.lobby.deep', 3)
    await settle(bus)
    // Order holds per subscriber; between subscribers it may differ.
    assert.deepEqual(got.filter((g) => g.startsWith('lobby:')), ['lobby:1', 'lobby:2'])
    assert.deepEqual(got.filter((g) => g.startsWith('any:')), ['any:dx.chat.lobby:1', 'any:dx.chat.lobby:2'])
    assert.deepEqual(got.filter((g) => g.startsWith('all:')), ['all:dx.chat.lobby:1', 'all:dx.chat.lobby:2', 'all:dx.chat.lobby.deep:3'])
    assert.equal(got.length, 7, 'no other delivery')
    await bus.close()
  })

  t('data arrives as JSON values, envelope fields intact', async () => {
    const bus = await make(() => {})
    const got: unknown[] = []
    bus.subscribe('data', (d) => void got.push(d))
    const env = { id: 'e-1', name: 'todo:added', detail: { text: 'ünïcode ✓', n: [1, 2] }, source: 'todo', time: '2024-01-01T00:00:00.000Z' }
    for (const d of [env, 'text', 42, null, true]) await bus.publish('data', d)
    await until(() => got.length === 5, 'five messages')
    assert.deepEqual(got, [env, 'text', 42, null, true])
    await bus.close()
  })

  t('unsubscribe stops delivery; a failing handler does not stop the others', async () => {
    const errors: string[] = []
    const bus = await make((e, subject) => errors.push(`${subject}:${(e as Error).message}`))
    const got: unknown[] = []
    bus.subscribe('a', () => {
      throw new Error('boom')
    })
    bus.subscribe('a', async () => {
      throw new Error('async boom')
    })
    const off = bus.subscribe('a', (d) => void got.push(d))
    await bus.publish('a', 1)
    await until(() => got.length === 1 && errors.length === 2, 'the first delivery')
    off()
    await bus.publish('a', 2)
    await settle(bus)
    await until(() => errors.length === 4, 'the failures of the second delivery')
    assert.deepEqual(got, [1])
    assert.deepEqual(errors.sort(), ['a:async boom', 'a:async boom', 'a:boom', 'a:boom'])
    await bus.close()
  })

  t('a queue group gets each message once; plain subscribers get every one', async () => {
    const bus = await make(() => {})
    const group: Array<Array<number>> = [[], []]
    const plain: number[] = []
    bus.subscribe('q.>', (d) => void group[0].push(d as number), { queue: 'workers' })
    bus.subscribe('q.>', (d) => void group[1].push(d as number), { queue: 'workers' })
    bus.subscribe('q.>', (d) => void plain.push(d as number))
    for (let i = 0; i < 40; i++) await bus.publish(`q.${i % 3}`, i)
    await until(() => plain.length === 40 && group[0].length + group[1].length === 40, 'forty messages to each')
    await settle(bus)
    const all = [...group[0], ...group[1]].sort((a, b) => a - b)
    assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => i), 'each message once in the group')
    assert.equal(plain.length, 40)
    await bus.close()
  })

  t('bad subjects and queue names are refused', async () => {
    const bus = await make(() => {})
    await assert.rejects(bus.publish('dx.*', 1), /token 2/)
    await assert.rejects(bus.publish('', 1), /non-empty/)
    assert.throws(() => bus.subscribe('dx.>.x', () => {}), /token 2/)
    assert.throws(() => bus.subscribe('dx.>', () => {}, { queue: 'a b' }), /queue group/)
    await bus.close()
  })
}
