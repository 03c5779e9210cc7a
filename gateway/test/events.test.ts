// The relay: HX-Trigger headers and signed publishes become envelopes, delivered signed
// to the services that subscribe, at least once; nothing a browser sends is an event.
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { makeEnvelope, sign, verify, type Envelope } from '@dx/kit'
import { freePort, sleep } from '@dx/testkit'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/server.js'
import { listen, upstream } from './helpers.js'

const SECRET = 'test-secret'

/** A service that subscribes to `subscribes` and records the events posted to it. */
async function subscriber(name: string, subscribes: string[], port = 0) {
  const got: Array<{ env: Envelope; signed: boolean }> = []
  let failNext = 0
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      if (req.url === '/_dx/manifest') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, prefix: `/${name}`, widget: `/${name}`, subscribes }))
      if (req.url === '/_dx/events') {
        if (failNext > 0) {
          failNext--
          return void res.writeHead(500).end('{"error":"handler failed"}')
        }
        got.push({ env: JSON.parse(body), signed: verify(body, req.headers['x-dx-signature'] as string, SECRET) })
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      }
      res.writeHead(404).end()
    })
  }
  const up = await upstream(handler, port)
  return { ...up, got, failTimes: (n: number) => (failNext = n) }
}

/** A service whose every answer carries the events of the `x-test-trigger` request header. */
async function emitter() {
  const seen: Array<Record<string, unknown>> = []
  return {
    seen,
    ...(await upstream((req, res) => {
      seen.push({ ...req.headers })
      if (req.url === '/_dx/manifest') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"todo","subscribes":[]}')
      const trigger = req.headers['x-test-trigger'] as string | undefined
      res.writeHead(200, trigger ? { 'content-type': 'text/html', 'HX-Trigger': trigger } : { 'content-type': 'text/html' })
      res.end('<p>ok</p>')
    })),
  }
}

async function system(todoUrl: string, chatUrl: string, secret = SECRET) {
  const toml = `[gateway]\nhealth_interval_ms = 0\n[[services]]\nname = "todo"\nupstreams = ["${todoUrl}"]\n[[services]]\nname = "chat"\nupstreams = ["${chatUrl}"]\n`
  const gw = createGateway(parseConfig(toml, 'test.toml', secret ? { DX_EVENT_SECRET: secret } : {}))
  const port = await listen(gw.server)
  await gw.delivery.refresh()
  return { ...gw, close: () => gw.close(500), url: `http://127.0.0.1:${port}` }
}

const waitFor = async (cond: () => boolean, ms = 5000) => {
  for (const until = Date.now() + ms; !cond() && Date.now() < until; ) await sleep(20)
  assert.ok(cond(), 'condition not met in time')
}

describe('relaying HX-Trigger to subscribing services', () => {
  let todo: Awaited<ReturnType<typeof emitter>>
  let chat: Awaited<ReturnType<typeof subscriber>>
  let gw: Awaited<ReturnType<typeof system>>
  before(async () => {
    todo = await emitter()
    chat = await subscriber('chat', ['todo:added', 'todo:removed'])
    gw = await system(todo.url, chat.url)
  })
  after(async () => {
    await gw.close()
    await todo.close()
    await chat.close()
  })

  test('a todo write through the gateway: chat receives exactly one signed envelope, with actor and page id', async () => {
    chat.got.length = 0
    const r = await fetch(`${gw.url}/todo/items`, {
      method: 'POST',
      headers: { 'x-test-trigger': '{"todo:added": {"id": 7, "text": "buy milk"}}', cookie: 'other=1; dx_actor=ana', 'x-dx-client': 'page-1234abcd' },
      body: 'text=buy+milk',
    })
    // The header still reaches the browser unchanged.
    assert.equal(r.headers.get('hx-trigger'), '{"todo:added": {"id": 7, "text": "buy milk"}}')
    await waitFor(() => chat.got.length >= 1)
    await sleep(100)
    assert.equal(chat.got.length, 1)
    const { env, signed } = chat.got[0]
    assert.ok(signed, 'signed with DX_EVENT_SECRET')
    assert.equal(env.name, 'todo:added')
    assert.deepEqual(env.detail, { id: 7, text: 'buy milk' })
    assert.equal(env.source, 'todo')
    assert.equal(env.actor, 'ana')
    assert.equal(env.client, 'page-1234abcd')
    assert.ok(Math.abs(Date.parse(env.time) - Date.now()) < 5000)
  })

  test('the service learns the request came through the gateway (it must not publish it again)', async () => {
    await fetch(`${gw.url}/todo/x`, { headers: { 'x-dx-via': 'forged' } })
    const h = todo.seen.at(-1)!
    assert.notEqual(h['x-dx-via'], 'forged')
    assert.equal(typeof h['x-dx-via'], 'string')
  })

  test('events nobody subscribes to, and the source itself, get nothing', async () => {
    chat.got.length = 0
    await fetch(`${gw.url}/todo/items`, { method: 'POST', headers: { 'x-test-trigger': 'todo:updated' } })
    await sleep(200)
    assert.equal(chat.got.length, 0)
  })

  test("a browser's own HX-Trigger or X-Dx-* request headers are never events", async () => {
    chat.got.length = 0
    const before = gw.relay.stats.relayed.get('todo:added') ?? 0
    await fetch(`${gw.url}/todo/items`, { method: 'POST', headers: { 'HX-Trigger': 'todo:added', 'HX-Trigger-Name': 'todo:added', 'X-Dx-Event': 'todo:added' }, body: 'x=1' })
    await sleep(200)
    assert.equal(chat.got.length, 0)
    assert.equal(gw.relay.stats.relayed.get('todo:added') ?? 0, before)
  })

  test('names outside service:verb and details over 8 KiB reach the browser but are not relayed', async () => {
    chat.got.length = 0
    const notRelayed = gw.relay.stats.notRelayed
    const big = JSON.stringify({ 'todo:added': 'x'.repeat(9000) })
    for (const t of ['Todo:Added', 'showMessage', big]) {
      const r = await fetch(`${gw.url}/todo/items`, { method: 'POST', headers: { 'x-test-trigger': t } })
      assert.equal(r.headers.get('hx-trigger'), t)
    }
    await sleep(200)
    assert.equal(chat.got.length, 0)
    assert.equal(gw.relay.stats.notRelayed, notRelayed + 3)
  })

  test('a subscriber that fails gets the event again until it takes it', async () => {
    chat.got.length = 0
    chat.failTimes(2)
    await fetch(`${gw.url}/todo/items/1`, { method: 'DELETE', headers: { 'x-test-trigger': 'todo:removed' } })
    await waitFor(() => chat.got.length === 1)
    assert.equal(chat.got[0].env.name, 'todo:removed')
  })
})

test('a subscriber down for 3 s still gets the envelope once it is back', async () => {
  const todo = await emitter()
  const chatPort = await freePort()
  let chat = await subscriber('chat', ['todo:added'], chatPort)
  const gw = await system(todo.url, chat.url)
  await chat.close()
  await fetch(`${gw.url}/todo/items`, { method: 'POST', headers: { 'x-test-trigger': 'todo:added' } })
  await sleep(3000)
  chat = await subscriber('chat', ['todo:added'], chatPort)
  await waitFor(() => chat.got.length === 1, 10_000)
  assert.equal(chat.got[0].env.name, 'todo:added')
  await gw.close()
  await todo.close()
  await chat.close()
})

describe('POST /_dx/publish: events from standalone pages', () => {
  let chat: Awaited<ReturnType<typeof subscriber>>
  let gw: Awaited<ReturnType<typeof system>>
  before(async () => {
    chat = await subscriber('chat', ['todo:added'])
    gw = await system(`http://127.0.0.1:${await freePort()}`, chat.url)
  })
  after(async () => {
    await gw.close()
    await chat.close()
  })
  const publish = (env: unknown, secret = SECRET) => {
    const body = JSON.stringify(env)
    return fetch(`${gw.url}/_dx/publish`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-dx-signature': sign(body, secret) }, body })
  }

  test('a signed envelope from a configured service is accepted and delivered once', async () => {
    chat.got.length = 0
    const env = makeEnvelope({ name: 'todo:added', detail: { text: 'tea' }, source: 'todo', actor: 'bo' })
    const r = await publish(env)
    assert.equal(r.status, 202)
    await waitFor(() => chat.got.length === 1)
    assert.equal(chat.got[0].env.id, env.id)
    assert.equal(chat.got[0].env.actor, 'bo')
  })

  test('refused: a bad signature (401), an unknown source (403), an old time or a bad shape (400)', async () => {
    const env = makeEnvelope({ name: 'todo:added', detail: null, source: 'todo' })
    assert.equal((await publish(env, 'wrong')).status, 401)
    assert.equal((await publish({ ...env, source: 'evil' })).status, 403)
    assert.equal((await publish({ ...env, time: new Date(Date.now() - 11 * 60_000).toISOString() })).status, 400)
    assert.equal((await publish({ ...env, name: 'nope' })).status, 400)
    const unsigned = await fetch(`${gw.url}/_dx/publish`, { method: 'POST', body: JSON.stringify(env) })
    assert.equal(unsigned.status, 401)
  })
})

test('without DX_EVENT_SECRET: /_dx/publish is refused with 503 and nothing is delivered', async () => {
  const todo = await emitter()
  const chat = await subscriber('chat', ['todo:added'])
  const gw = await system(todo.url, chat.url, '')
  const env = makeEnvelope({ name: 'todo:added', detail: null, source: 'todo' })
  const body = JSON.stringify(env)
  assert.equal((await fetch(`${gw.url}/_dx/publish`, { method: 'POST', headers: { 'x-dx-signature': sign(body, 'x') }, body })).status, 503)
  await fetch(`${gw.url}/todo/items`, { method: 'POST', headers: { 'x-test-trigger': 'todo:added' } })
  await sleep(200)
  assert.equal(chat.got.length, 0)
  assert.equal(todo.seen.at(-1)!['x-dx-via'], undefined)
  await gw.close()
  await todo.close()
  await chat.close()
})
