// The gateway on the bus: its state on /healthz and the status page, and with NATS, two
// gateways that share the work of delivery (each event POSTed once) while every page on
// either gets every event.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { request, type IncomingMessage, type ServerResponse } from 'node:http'
import { test } from 'node:test'
import { createBus, natsBus, waitConnected, type Bus } from '@dx/bus'
import { freePort, needsNats, sleep } from '@dx/testkit'
import { makeEnvelope, sign, verify, type Envelope } from '@dx/kit'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/server.js'
import { listen, upstream } from './helpers.js'

const SECRET = 'bus-test-secret'
const NATS = process.env.DX_TEST_NATS_URL
const quiet = { info() {}, warn() {}, error() {} }

const waitFor = async (cond: () => boolean, what: string, ms = 10_000) => {
  for (const until = Date.now() + ms; !cond() && Date.now() < until; ) await sleep(10)
  assert.ok(cond(), `timed out waiting for ${what}`)
}

async function gatewayOn(bus: Bus | undefined, todoUrl: string, chatUrl: string) {
  const toml = `[gateway]\nhealth_interval_ms = 0\n[[services]]\nname = "todo"\nupstreams = ["${todoUrl}"]\n[[services]]\nname = "chat"\nupstreams = ["${chatUrl}"]\n`
  const gw = createGateway(parseConfig(toml, 'test.toml', { DX_EVENT_SECRET: SECRET }), bus ? { bus } : {})
  const port = await listen(gw.server)
  return { ...gw, close: () => gw.close(500), url: `http://127.0.0.1:${port}`, port }
}

/** A service named `name` subscribing to `subscribes`, recording every envelope posted to it. */
async function subscriber(name: string, subscribes: string[]) {
  const got: Envelope[] = []
  const up = await upstream((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      if (req.url === '/_dx/manifest') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, prefix: `/${name}`, widget: `/${name}`, subscribes }))
      if (req.url === '/_dx/events' && verify(body, req.headers['x-dx-signature'] as string, SECRET)) {
        got.push(JSON.parse(body))
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      }
      res.writeHead(404).end()
    })
  })
  return { ...up, got }
}

/** An open `/_dx/events` stream, collecting the ids of the events it receives. */
function stream(port: number) {
  const ids: string[] = []
  let res: IncomingMessage | undefined
  const ready = new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/_dx/events' }, (r) => {
      res = r
      let buf = ''
      r.setEncoding('utf8')
      r.on('data', (chunk: string) => {
        buf += chunk
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const id = /^id: (.*)$/m.exec(frame)?.[1]
          if (id && /^event: /m.test(frame)) ids.push(id)
        }
      })
      resolve()
    })
    req.on('error', reject)
    req.end()
  })
  return { ids, ready, close: () => res?.destroy() }
}

async function publish(gwUrl: string, name: string) {
  const env = makeEnvelope({ name, detail: { n: randomUUID() }, source: 'todo' })
  const body = JSON.stringify(env)
  const r = await fetch(`${gwUrl}/_dx/publish`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-dx-signature': sign(body, SECRET) }, body })
  assert.equal(r.status, 202, await r.text())
  return env.id
}

test('/healthz and the status page carry the bus state: connected in memory', async () => {
  const gw = await gatewayOn(undefined, 'http://127.0.0.1:9', 'http://127.0.0.1:9')
  try {
    assert.deepEqual(await (await fetch(`${gw.url}/healthz`)).json(), { status: 'ok', bus: 'connected' })
    const snap = await (await fetch(`${gw.url}/_dx/status.json`)).json()
    assert.equal(snap.gateway.bus, 'memory')
    assert.equal(snap.gateway.busState.state, 'connected')
    assert.match(await (await fetch(`${gw.url}/_dx/status/fragment`)).text(), /data-bus-state="connected"[^]*bus connected/)
  } finally {
    await gw.close()
  }
})

test('a NATS bus that cannot connect: the gateway still serves, 200, and says the bus is connecting', async () => {
  const bus = natsBus({ servers: [`nats://127.0.0.1:${await freePort()}`], log: quiet, reconnectWaitMs: 100, jitterMs: 100 })
  const gw = await gatewayOn(bus, 'http://127.0.0.1:9', 'http://127.0.0.1:9')
  try {
    const r = await fetch(`${gw.url}/healthz`)
    assert.equal(r.status, 200)
    assert.deepEqual(await r.json(), { status: 'ok', bus: 'connecting' })
    // An event from a service is held by the bus, accepted.
    await publish(gw.url, 'todo:added')
    const snap = await (await fetch(`${gw.url}/_dx/status.json`)).json()
    assert.deepEqual([snap.gateway.busState.state, snap.gateway.busState.buffered], ['connecting', 1])
    assert.match(await (await fetch(`${gw.url}/_dx/status/fragment`)).text(), /data-bus-state="connecting"[^]*1 held/)
  } finally {
    await gw.close()
    await bus.close()
  }
})

test('two gateways on one NATS bus: each event is POSTed to a subscribing service once; streams on both get every event, ids kept', { skip: needsNats() }, async () => {
  const prefix = `t${randomUUID().replaceAll('-', '')}`
  const buses = [createBus({ url: NATS, prefix, log: quiet }), createBus({ url: NATS, prefix, log: quiet })]
  for (const b of buses) assert.ok(await waitConnected(b, 5000), `no NATS at ${NATS}`)
  const chat = await subscriber('chat', ['todo:added'])
  const todo = await subscriber('todo', [])
  const gws = await Promise.all(buses.map((b) => gatewayOn(b, todo.url, chat.url)))
  const streams = gws.map((g) => stream(g.port))
  try {
    await Promise.all(gws.map((g) => g.delivery.refresh()))
    await Promise.all(streams.map((s) => s.ready))
    // Subscriptions reach the server asynchronously: warm up until both streams and the
    // service have an event published through each gateway.
    const warm = new Set<string>()
    for (let i = 0; !(streams.every((s) => [...warm].every((id) => s.ids.includes(id))) && warm.size >= 2 && [...warm].every((id) => chat.got.some((e) => e.id === id))); i++) {
      if (i % 10 === 0) warm.add(await publish(gws[i % 20 === 0 ? 0 : 1].url, 'todo:added'))
      await sleep(20)
      assert.ok(i < 500, 'the warm-up events came through')
    }

    const ids: string[] = []
    for (let i = 0; i < 30; i++) ids.push(await publish(gws[i % 2].url, 'todo:added'))
    await waitFor(() => ids.every((id) => chat.got.some((e) => e.id === id)), 'every event at the service')
    await waitFor(() => streams.every((s) => ids.every((id) => s.ids.includes(id))), 'every event on both streams')
    await sleep(300) // a second POST of any of them would come in now
    // Delivery is at least once: a POST that timed out on a loaded machine is sent again,
    // and only such retries may repeat an event. Two gateways each POSTing would repeat all.
    const retried = gws.reduce((n, g) => n + (g.delivery.stats.get('chat')?.retried ?? 0), 0)
    const repeats = ids.reduce((n, id) => n + chat.got.filter((e) => e.id === id).length - 1, 0)
    assert.ok(repeats <= retried, `${repeats} events POSTed more than once with ${retried} retries`)
    assert.equal(todo.got.length, 0, 'the source is not sent its own events')
    // Every event once on each stream, under its envelope id; in order per publishing
    // gateway (one connection each; between two connections the bus promises no order).
    for (const s of streams) {
      const got = s.ids.filter((id) => ids.includes(id))
      assert.deepEqual([...got].sort(), [...ids].sort(), 'each stream has every event once')
      for (const g of [0, 1]) assert.deepEqual(got.filter((id) => ids.indexOf(id) % 2 === g), ids.filter((_, i) => i % 2 === g), `in order from gateway ${g}`)
    }
  } finally {
    for (const s of streams) s.close()
    await Promise.all(gws.map((g) => g.close()))
    await Promise.all(buses.map((b) => b.close()))
    await chat.close()
    await todo.close()
  }
})
