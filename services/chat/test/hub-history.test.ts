// How the hub uses a history whose calls take time (PostgreSQL): a socket that joins while
// the history is read, or while a message is still on its way into it, sees each message
// once and in order; a history that cannot be read leaves the room usable.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { memoryBus } from '@dx/bus'
import { sleep } from '@dx/testkit'
import type { History, Message } from '../src/history.js'
import { createHub } from '../src/hub.js'
import { attachSockets } from '../src/sockets.js'
import { ChatClient } from './client.js'

const quiet = { info() {}, warn() {}, error() {} }
const JOINED = 'hx-swap-oob="innerHTML"'

/** A history in memory whose calls the test holds and releases. */
class SlowHistory implements History {
  stored: Message[] = []
  /** When set, the next recent() waits for it and answers what it resolves with. */
  nextRecent?: Promise<Message[]>
  /** When set, add() waits for it before storing. */
  addGate?: Promise<void>
  async add(m: Message) {
    await this.addGate
    if (this.stored.some((x) => x.id === m.id)) return false
    this.stored.push(m)
    return true
  }
  async recent(room: string) {
    const wait = this.nextRecent
    this.nextRecent = undefined
    return wait ?? this.stored.filter((m) => m.room === room)
  }
  async close() {}
}

async function chat(t: TestContext, history: History) {
  const hub = createHub({ bus: memoryBus(), history, log: quiet, presenceMs: 60_000 })
  const server = createServer((_req, res) => res.writeHead(404).end())
  const sockets = attachSockets(server, hub, quiet, new Set())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const clients: ChatClient[] = []
  t.after(async () => {
    for (const c of clients) c.close()
    sockets.close()
    await hub.shutdown()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    join: async (nick: string) => {
      const c = await ChatClient.open(url, 'lobby', nick)
      clients.push(c)
      return c
    },
  }
}

const deferred = <T>() => {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((res) => (resolve = res))
  return { promise, resolve }
}
/** Frames from the joined frame on: what the page shows after it replaced its content. */
const fromJoined = (c: ChatClient) => c.frames.slice(c.frames.findIndex((f) => f.includes(JOINED)))
const textsIn = (frames: string[]) => frames.flatMap((f) => [...f.matchAll(/<span class="chat-text[^"]*">([^<]*)<\/span>/g)].map((m) => m[1]!))

for (const readSaw of [true, false]) {
  test(`a message said while a joiner's history is read is shown to it once, after the history (${readSaw ? 'the read saw it' : 'the read missed it'})`, async (t) => {
    const history = new SlowHistory()
    const room = await chat(t, history)
    const ann = await room.join('ann')
    ann.send('before')
    await ann.waitFor(/before/)
    while (history.stored.length < 1) await sleep(5)

    const read = deferred<Message[]>()
    history.nextRecent = read.promise
    const bob = await room.join('bob')
    ann.send('during')
    await ann.waitFor(/during/)
    while (history.stored.length < 2) await sleep(5)
    assert.equal(bob.frames.some((f) => f.includes(JOINED)), false, 'nothing before the history')
    read.resolve(readSaw ? [...history.stored] : history.stored.slice(0, 1))
    await bob.waitFor((f) => f.includes(JOINED))
    await bob.waitFor(/during/)
    ann.send('after')
    await bob.waitFor(/after/)
    assert.deepEqual(textsIn(fromJoined(bob)), ['before', 'during', 'after'])
  })
}

test('a joiner sees a message whose history write has not finished yet', async (t) => {
  const history = new SlowHistory()
  const gate = deferred<void>()
  history.addGate = gate.promise
  const room = await chat(t, history)
  const ann = await room.join('ann')
  ann.send('on its way')
  await ann.waitFor(/on its way/)
  const bob = await room.join('bob')
  await bob.waitFor((f) => f.includes(JOINED))
  assert.deepEqual(history.stored, [], 'the write is still held')
  assert.deepEqual(textsIn(fromJoined(bob)), ['on its way'])
  gate.resolve()
})

test('a history that cannot be read: the joiner gets a notice, and the room works', async (t) => {
  const history = new SlowHistory()
  const room = await chat(t, history)
  history.recent = async () => {
    throw new Error('database down')
  }
  const bob = await room.join('bob')
  await bob.waitFor(/earlier messages of this room could not be loaded/)
  const ann = await room.join('ann')
  ann.send('still here')
  await bob.waitFor(/still here/)
})
