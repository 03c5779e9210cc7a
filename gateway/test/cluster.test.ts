// A cluster on NATS and PostgreSQL, as make start-cluster runs one: two gateways, two chat
// and two todo replicas, with a subject prefix and a schema of this run's own.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { databaseTestUrl, natsTestUrl, needsNatsAndDatabase, sleep, startCluster, type Cluster } from '@dx/testkit'
import { addTodo, announced, ChatClient, chatDeliveries, openEvents, until, type Events } from './cluster-helpers.js'

const skip = needsNatsAndDatabase()
let c: Cluster
let lobbyA: ChatClient
let lobbyB: ChatClient
let streams: Events[] = []

before(async () => {
  if (skip) return
  c = await startCluster({ natsUrl: natsTestUrl(), databaseUrl: databaseTestUrl() })
  // One watcher in the lobby on each chat replica, one event stream on each gateway.
  lobbyA = await ChatClient.open(c.chat[0].url, 'lobby', 'watcher-a', { reconnect: true })
  lobbyB = await ChatClient.open(c.chat[1].url, 'lobby', 'watcher-b', { reconnect: true })
  streams = await Promise.all(c.gateways.map((g) => openEvents(g.url)))
})
after(async () => {
  lobbyA?.close()
  lobbyB?.close()
  await Promise.all(streams.map((s) => s.close()))
  await c?.stop()
})

test('todos added via either gateway reach chat exactly once, and the event streams of both gateways', { skip }, async () => {
  const texts = Array.from({ length: 6 }, (_, i) => `cluster todo ${i} ${c.prefix}`)
  const before = await chatDeliveries(c.gateways)
  for (const [i, text] of texts.entries()) {
    // Mostly through gateway A; one through B, so neither gateway is special.
    const r = await addTodo(c.gateways[i === 3 ? 1 : 0].url, text)
    assert.equal(r.status, 200, await r.text())
  }
  for (const text of texts) {
    assert.ok(await until(() => announced(lobbyA, text) > 0 && announced(lobbyB, text) > 0), `"${text}" announced on both chat replicas`)
    assert.ok(await until(() => streams.every((s) => s.added(text).length > 0)), `"${text}" on the event stream of both gateways`)
  }
  assert.ok(await until(async () => (await chatDeliveries(c.gateways)) - before >= texts.length), 'the gateways counted the deliveries')
  // A second delivery (by the other gateway, to the other replica) would come within this.
  await sleep(1500)
  assert.equal((await chatDeliveries(c.gateways)) - before, texts.length, 'each event delivered to chat once, by one gateway, to one replica')
  for (const text of texts) {
    assert.equal(announced(lobbyA, text), 1, `"${text}" announced once to a client of chat-1`)
    assert.equal(announced(lobbyB, text), 1, `"${text}" announced once to a client of chat-2`)
    assert.ok(lobbyA.frames.some((f) => f.includes(`ana added a todo: ${text}`)), 'by the actor')
    for (const [i, s] of streams.entries()) assert.equal(s.added(text).length, 1, `"${text}" once on gateway-${i + 1}'s stream`)
  }
})

test('a chat client on replica A and one on replica B exchange messages', { skip }, async () => {
  const room = `r${c.prefix.slice(-8)}`
  const ana = await ChatClient.open(c.chat[0].url, room, 'ana')
  const bo = await ChatClient.open(c.chat[1].url, room, 'bo')
  try {
    ana.send('hello from replica A')
    await bo.waitFor(/hello from replica A/, 10_000)
    bo.send('hello from replica B')
    await ana.waitFor(/hello from replica B/, 10_000)
    // And through the two gateways, whichever replicas they pick.
    const cy = await ChatClient.open(c.gateways[0].url, room, 'cy')
    const di = await ChatClient.open(c.gateways[1].url, room, 'di')
    try {
      cy.send('cy via gateway A')
      await di.waitFor(/cy via gateway A/, 10_000)
      await bo.waitFor(/cy via gateway A/, 10_000)
      await ana.waitFor(/cy via gateway A/, 10_000)
    } finally {
      cy.close()
      di.close()
    }
  } finally {
    ana.close()
    bo.close()
  }
})

test('one todo replica killed under writes through both gateways: no acknowledged todo is lost', { skip }, async () => {
  const acked: string[] = []
  const failed: number[] = []
  let n = 0
  let stop = false
  const writer = async (gw: number) => {
    while (!stop) {
      const text = `kill ${c.prefix} ${n++}`
      try {
        const r = await addTodo(c.gateways[gw].url, text)
        await r.arrayBuffer()
        if (r.status === 200) acked.push(text)
        else failed.push(r.status)
      } catch {
        failed.push(0)
      }
      await sleep(20)
    }
  }
  const writers = [writer(0), writer(1), writer(0), writer(1)]
  await until(() => acked.length >= 20)
  await c.todo[0].kill9()
  const ackedAtKill = acked.length
  await until(() => acked.length >= ackedAtKill + 40, 20_000)
  stop = true
  await Promise.all(writers)
  assert.ok(acked.length >= ackedAtKill + 40, `writes went on after the kill: ${acked.length - ackedAtKill} acknowledged since`)
  assert.deepEqual(failed.filter((s) => ![0, 502, 503, 504].includes(s)), [], 'a write that failed failed clearly')

  const stored = new Set(((await (await fetch(`${c.todo[1].url}/todo/items`)).json()) as { text: string }[]).map((t) => t.text))
  const lost = acked.filter((t) => !stored.has(t))
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged todos lost`)

  // The killed replica comes back and reads the same rows.
  await c.todo[0].start()
  const again = new Set(((await (await fetch(`${c.todo[0].url}/todo/items`)).json()) as { text: string }[]).map((t) => t.text))
  assert.deepEqual(acked.filter((t) => !again.has(t)), [])
})
