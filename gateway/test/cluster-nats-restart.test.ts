// The cluster's NATS restarted mid-run: gateways and services reconnect and events and
// chat flow again. The NATS server is this test's own child (never the machine's shared
// one), on a free port, restarted on the same port.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { databaseTestUrl, NatsServer, needsDatabase, needsNatsServer, sleep, startCluster, type Cluster } from '@dx/testkit'
import { addTodo, announced, ChatClient, openEvents, until, type Events } from './cluster-helpers.js'

const skip = needsNatsServer() || needsDatabase()
let nats: NatsServer
let c: Cluster
let lobbyA: ChatClient
let lobbyB: ChatClient
let streams: Events[] = []

before(async () => {
  if (skip) return
  nats = await NatsServer.start()
  c = await startCluster({ natsUrl: nats.url, databaseUrl: databaseTestUrl() })
  lobbyA = await ChatClient.open(c.chat[0].url, 'lobby', 'watcher-a', { reconnect: true })
  lobbyB = await ChatClient.open(c.chat[1].url, 'lobby', 'watcher-b', { reconnect: true })
  streams = await Promise.all(c.gateways.map((g) => openEvents(g.url)))
})
after(async () => {
  lobbyA?.close()
  lobbyB?.close()
  await Promise.all(streams.map((s) => s.close()))
  await c?.stop()
  await nats?.close()
})

/** A todo added through gateway A reached both chat replicas' rooms and both gateways' streams. */
const everywhere = (text: string) => announced(lobbyA, text) > 0 && announced(lobbyB, text) > 0 && streams.every((s) => s.added(text).length > 0)

/** The bus state each gateway and chat replica reports on its /healthz, by name. */
async function busStates(): Promise<Record<string, string>> {
  const states = await Promise.all(
    [...c.gateways, ...c.chat].map(async (p) => {
      try {
        const r = await fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(2000) })
        return [p.opts.name, String(((await r.json()) as { bus?: string }).bus)]
      } catch (e) {
        return [p.opts.name, (e as Error).message]
      }
    }),
  )
  return Object.fromEntries(states)
}
const allBus = async (test: (state: string) => boolean) => Object.values(await busStates()).every(test)

/** A chat message from a client of chat-1 reached a client of chat-2, and back. */
async function chatAcross(ana: ChatClient, bo: ChatClient, text: string, ms: number) {
  ana.send(`${text} A`)
  await bo.waitFor((f) => f.includes(`${text} A`), ms)
  bo.send(`${text} B`)
  await ana.waitFor((f) => f.includes(`${text} B`), ms)
}

test('NATS restarted mid-run: both gateways and both chat replicas reconnect, and events and chat flow again', { skip }, async () => {
  const room = `r${c.prefix.slice(-8)}`
  const ana = await ChatClient.open(c.chat[0].url, room, 'ana')
  const bo = await ChatClient.open(c.chat[1].url, room, 'bo')
  try {
    const first = `before restart ${c.prefix}`
    assert.equal((await addTodo(c.gateways[0].url, first)).status, 200)
    assert.ok(await until(() => everywhere(first)), 'events flow before the restart')
    await chatAcross(ana, bo, 'before restart', 10_000)

    await nats.stop()
    assert.ok(await until(() => allBus((s) => s !== 'connected'), 10_000), `every process noticed: ${JSON.stringify(await busStates())}`)
    // Writes do not wait for the bus: the todo is stored and answered while NATS is away.
    const during = await addTodo(c.gateways[0].url, `while NATS was down ${c.prefix}`)
    assert.equal(during.status, 200, 'todo answers while NATS is down')
    await nats.start()
    assert.ok(await until(() => allBus((s) => s === 'connected'), 30_000), `every process reconnected: ${JSON.stringify(await busStates())}`)

    // Each process reconnects on its own schedule (a jittered pause): NATS core drops what
    // is published to a subscriber not yet back, so probe until one todo goes all the way.
    let k = 0
    const reached = await until(async () => {
      const text = `after restart ${k++} ${c.prefix}`
      await addTodo(c.gateways[0].url, text)
      return until(() => everywhere(text), 2000)
    }, 30_000)
    assert.ok(reached, 'a todo added after the restart reached both chat replicas and both gateways\' streams')

    // Reconnected for good: the next one arrives at once, through the other gateway too.
    const last = `settled ${c.prefix}`
    assert.equal((await addTodo(c.gateways[1].url, last)).status, 200)
    assert.ok(await until(() => everywhere(last), 10_000), 'events flow again through gateway B')
    await sleep(1000)
    assert.equal(announced(lobbyA, last), 1, 'announced once on chat-1')
    assert.equal(announced(lobbyB, last), 1, 'announced once on chat-2')
    await chatAcross(ana, bo, 'after restart', 10_000)
  } finally {
    ana.close()
    bo.close()
  }
})
