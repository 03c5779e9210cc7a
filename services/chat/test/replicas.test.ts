// Chat across replicas: rooms and members shared over the bus. Presence merging with a fake
// clock; two hubs on one in-process bus; and with NATS, two real processes.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { memoryBus, type Bus } from '@dx/bus'
import { freePort, needsNats, Proc, sleep } from '@dx/testkit'
import { presenceSubject } from '../src/events.js'
import type { History } from '../src/history.js'
import { createHub } from '../src/hub.js'
import { asHeartbeat, mergeMembers, RemotePresence } from '../src/presence.js'
import { NAME_CHARS } from '../src/rules.js'
import { attachSockets } from '../src/sockets.js'
import { ChatClient } from './client.js'

const quiet = { info() {}, warn() {}, error() {} }
const nameOk = (s: string) => NAME_CHARS.test(s) && s.length <= 32

/** The member list of the last members frame a client got. */
const membersOf = (c: ChatClient) => {
  const frame = c.frames.filter((f) => f.includes('id="chat-members"')).at(-1) ?? ''
  const list = /<ul id="chat-members"[^>]*>([^]*?)<\/ul>/.exec(frame)?.[1] ?? ''
  return [...list.matchAll(/<li class="chat-member">([^<]*)<\/li>/g)].map((m) => m[1])
}
async function membersBecome(c: ChatClient, want: string[], ms = 10_000) {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(20)) if (membersOf(c).join() === want.join()) return
  assert.deepEqual(membersOf(c), want)
}

test('remote presence: heartbeats merge, a goodbye drops at once, silence drops after the ttl', () => {
  let now = 1_000_000
  const remote = new RemotePresence(15_000, () => now)
  assert.deepEqual([...remote.apply({ replica: 'b', rooms: { lobby: ['Ann', 'bob'], dev: ['cy'] } }).changed].sort(), ['dev', 'lobby'])
  assert.equal(remote.apply({ replica: 'c', rooms: { lobby: ['ann', 'dee'] } }).isNew, true)
  assert.deepEqual(mergeMembers(['zed', 'BOB'], remote.members('lobby')), ['ann', 'BOB', 'dee', 'zed'], 'each nickname once, sorted')
  assert.ok(remote.has('lobby', 'DEE') && !remote.has('dev', 'dee'))
  assert.deepEqual([...remote.roomNames()].sort(), ['dev', 'lobby'])

  // The same heartbeat again changes nothing; a member leaving changes their room only.
  assert.equal(remote.apply({ replica: 'b', rooms: { lobby: ['Ann', 'bob'], dev: ['cy'] } }).changed.size, 0)
  assert.deepEqual([...remote.apply({ replica: 'b', rooms: { lobby: ['Ann', 'bob'] } }).changed], ['dev'])

  now += 10_000
  remote.apply({ replica: 'c', rooms: { lobby: ['ann', 'dee'] } })
  now += 6_000 // b silent for 16 s, c for 6 s
  assert.deepEqual([...remote.expire()], ['lobby'])
  assert.deepEqual(remote.members('lobby'), ['ann', 'dee'])
  assert.equal(remote.replicaCount(), 1)
  now += 5_000
  assert.equal(remote.expire().size, 0, 'c was heard 11 s ago: it still counts')
  assert.deepEqual([...remote.apply({ replica: 'c', rooms: {}, bye: true }).changed], ['lobby'])
  assert.deepEqual(remote.members('lobby'), [])
  assert.equal(remote.replicaCount(), 0)
})

test('heartbeats off the bus are checked', () => {
  assert.deepEqual(asHeartbeat({ replica: 'r-1', rooms: { lobby: ['ann'] } }, nameOk), { replica: 'r-1', rooms: { lobby: ['ann'] }, bye: false })
  for (const bad of [null, 'x', { replica: 'a b', rooms: {} }, { replica: 'r', rooms: [] }, { replica: 'r', rooms: { '<b>': ['ann'] } }, { replica: 'r', rooms: { lobby: ['<script>'] } }, { replica: 'r', rooms: { lobby: 'ann' } }]) {
    assert.equal(asHeartbeat(bad, nameOk), null, JSON.stringify(bad))
  }
  const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`r${i}`, Array.from({ length: 1000 }, (_, j) => `n${j}`)]))
  assert.equal(asHeartbeat({ replica: 'r', rooms: many }, nameOk), null, 'over 10,000 members')
})

/** A chat replica in this process: a hub with its sockets on a port of its own. */
async function replica(bus: Bus, presenceMs: number) {
  const history = { add() {}, recent: () => [] } as unknown as History
  const hub = createHub({ bus, history, log: quiet, presenceMs })
  const server = createServer((_req, res) => res.writeHead(404).end())
  const sockets = attachSockets(server, hub, quiet, new Set())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    hub,
    url,
    stop: async () => {
      sockets.close()
      await hub.shutdown()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}

test('two replicas on one bus: a message on A reaches a socket on B; members and rooms span both; a goodbye and a silent replica stop counting', async () => {
  const bus = memoryBus()
  const a = await replica(bus, 100)
  const b = await replica(bus, 100)
  const ann = await ChatClient.open(a.url, 'lobby', 'ann')
  const bob = await ChatClient.open(b.url, 'lobby', 'bob')
  try {
    await membersBecome(bob, ['ann', 'bob'])
    await membersBecome(ann, ['ann', 'bob'])
    assert.deepEqual(b.hub.rooms(), [{ room: 'lobby', count: 2 }])
    assert.ok(b.hub.isTaken('lobby', 'ANN'), 'a nickname on another replica is taken')

    ann.send('hello from A')
    await bob.waitFor(/hello from A/)
    bob.send('hello from B')
    await ann.waitFor(/hello from B/)
    assert.deepEqual(ann.texts(), ['hello from A', 'hello from B'], 'each message once')

    // A replica that dies without a word: its heartbeats stop, its members go after 3 intervals.
    await bus.publish(presenceSubject('ghost'), { replica: 'ghost', rooms: { lobby: ['casper'] } })
    await membersBecome(bob, ['ann', 'bob', 'casper'])
    await membersBecome(bob, ['ann', 'bob'], 2000)

    await a.stop()
    await membersBecome(bob, ['bob'], 2000)
    assert.deepEqual(b.hub.rooms(), [{ room: 'lobby', count: 1 }])
  } finally {
    ann.close()
    bob.close()
    await a.stop()
    await b.stop()
  }
})

const NATS = process.env.DX_TEST_NATS_URL
test('two chat processes on NATS share a room: messages, members, and a killed replica stops counting', { skip: needsNats() }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-chat-replicas-'))
  const env = (n: number) => ({ DX_BUS: NATS!, DX_BUS_PREFIX: `t${randomUUID().replaceAll('-', '').slice(0, 8)}`, CHAT_DB: join(dir, `chat-${n}.db`), CHAT_PRESENCE_MS: '300' })
  const common = env(0)
  const procs = await Promise.all([1, 2].map(async (n) => new Proc({ name: `chat-${n}`, entry: 'services/chat/src/main.ts', port: await freePort(), env: { ...env(n), DX_BUS_PREFIX: common.DX_BUS_PREFIX } }).start()))
  const [a, b] = procs
  const clients: ChatClient[] = []
  try {
    for (const p of procs) assert.deepEqual(await (await fetch(`${p.url}/healthz`)).json(), { bus: 'connected', status: 'ok' })
    const ann = await ChatClient.open(a.url, 'lobby', 'ann')
    const bob = await ChatClient.open(b.url, 'lobby', 'bob')
    clients.push(ann, bob)
    await membersBecome(bob, ['ann', 'bob'])
    ann.send('across processes')
    await bob.waitFor(/across processes/)
    await a.kill9()
    await membersBecome(bob, ['bob'], 5000)
  } finally {
    for (const c of clients) c.close()
    await Promise.all(procs.map((p) => p.stop()))
  }
})
