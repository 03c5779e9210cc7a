import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { freePort, Proc, sleep } from '@dx/testkit'
import { gatewayMark, verify, type Envelope } from '../src/events.js'
import { fromGateway } from '../src/publish.js'

const SECRET = 'publish-test-secret'
const entry = 'packages/kit/test/fixtures/publish-service.ts'

type Received = { body: string; signature: string | undefined; env: Envelope }

/** A stand-in for the gateway's `POST /_dx/publish` on 127.0.0.1: records what arrives, answers `status`. */
class FakeGateway {
  received: Received[] = []
  tries = 0
  status = 202
  /** The next this-many requests are left unanswered (a gateway that hangs). */
  hang = 0
  private server: Server
  port = 0

  constructor() {
    this.server = this.make()
  }
  get url() {
    return `http://127.0.0.1:${this.port}/_dx/publish`
  }
  private make() {
    return createServer((req, res) => void this.handle(req, res))
  }
  private async handle(req: IncomingMessage, res: ServerResponse) {
    let body = ''
    for await (const chunk of req) body += chunk
    if (req.method !== 'POST' || req.url !== '/_dx/publish') return void res.writeHead(404).end()
    this.tries++
    if (this.hang > 0) {
      this.hang--
      return
    }
    if (this.status === 202) {
      const signature = req.headers['x-dx-signature'] as string | undefined
      this.received.push({ body, signature, env: JSON.parse(body) as Envelope })
    }
    res.writeHead(this.status, { 'content-type': 'application/json' }).end(JSON.stringify(this.status === 202 ? { status: 'accepted' } : { error: 'refused' }))
  }
  async start(port = 0) {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }
  async down() {
    const closed = new Promise<void>((r) => this.server.close(() => r()))
    this.server.closeAllConnections()
    await closed
    this.server = this.make()
  }
  async up() {
    await this.start(this.port)
  }
  async waitFor(n: number, ms = 8000): Promise<Received[]> {
    const until = Date.now() + ms
    while (this.received.length < n && Date.now() < until) await sleep(20)
    assert.ok(this.received.length >= n, `expected ${n} envelope(s) within ${ms} ms, got ${this.received.length}`)
    return this.received
  }
  reset() {
    this.received = []
    this.tries = 0
    this.status = 202
    this.hang = 0
  }
}

let gw: FakeGateway
let svc: Proc

before(async () => {
  gw = await new FakeGateway().start()
  svc = await new Proc({ name: 'demo', entry, port: await freePort(), env: { DX_EVENT_SECRET: SECRET, DX_PUBLISH_URL: gw.url } }).start()
})
after(async () => {
  await svc?.stop()
  await gw?.down()
})

/** Waits for a line in the service's log (it is written just after the gateway answered). */
async function logged(line: RegExp, ms = 5000) {
  const until = Date.now() + ms
  while (!line.test(svc.output) && Date.now() < until) await sleep(20)
  assert.match(svc.output, line)
}

const write = (headers: Record<string, string> = {}, body = 'buy milk', path = '/demo/items') =>
  fetch(`${svc.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } })

test('a write on the standalone port: exactly one signed envelope reaches the gateway, with actor and client', async () => {
  gw.reset()
  const client = 'page-0123456789abcdef'
  const r = await write({ cookie: 'theme=dark; dx_actor=ana', 'x-dx-client': client })
  assert.equal(r.status, 200)
  // The browser gets the header as the route set it.
  const trigger = r.headers.get('hx-trigger')!
  assert.deepEqual(JSON.parse(trigger), { 'demo:added': { id: 1, text: 'buy milk' } })
  const [got] = await gw.waitFor(1)
  await sleep(300)
  assert.equal(gw.received.length, 1, 'one envelope, once')
  assert.ok(verify(got!.body, got!.signature, SECRET), 'X-Dx-Signature is the HMAC of the body')
  const env = got!.env
  assert.equal(env.name, 'demo:added')
  assert.deepEqual(env.detail, { id: 1, text: 'buy milk' })
  assert.equal(env.source, 'demo')
  assert.equal(env.actor, 'ana')
  assert.equal(env.client, client)
  assert.match(env.id, /^[0-9a-f-]{36}$/)
  assert.ok(Math.abs(Date.parse(env.time) - Date.now()) < 10_000)
})

test('an invalid actor cookie or page id is left out; a read with no events publishes nothing', async () => {
  gw.reset()
  assert.equal((await fetch(`${svc.url}/demo/quiet`)).status, 200)
  await write({ cookie: 'dx_actor=%3Cscript%3E', 'x-dx-client': 'x' })
  const [got] = await gw.waitFor(1)
  assert.equal(got!.env.actor, undefined)
  assert.equal(got!.env.client, undefined)
  assert.equal(gw.received.length, 1)
})

test('every trigger header and form is published in order; a name outside "service:verb" is not', async () => {
  gw.reset()
  const r = await write({}, '', '/demo/many')
  assert.equal(r.headers.get('hx-trigger-after-settle'), 'demo:settled, not-relayed')
  await gw.waitFor(4)
  await sleep(300)
  assert.deepEqual(
    gw.received.map((g) => [g.env.name, g.env.detail]),
    [
      ['demo:one', null],
      ['demo:two', null],
      ['demo:swapped', { n: 1 }],
      ['demo:settled', null],
    ],
  )
  // The log is JSON lines: the quotes of the message are escaped there.
  assert.match(svc.output, /event not published \(it still reaches the browser\): name \\"not-relayed\\" is not \\"service:verb\\"/)
})

test('a request carrying the gateway mark is not published (the gateway relays it); a forged mark is', async () => {
  gw.reset()
  await write({ 'x-dx-via': gatewayMark(SECRET) }, 'through the gateway')
  await write({ 'x-dx-via': gatewayMark('not-the-secret') }, 'forged mark')
  await write({ 'x-dx-via': 'anything' }, 'junk mark')
  await write({}, 'last')
  // The queue is ordered: once "last" is in, everything published before it is too.
  await gw.waitFor(3)
  await sleep(300)
  assert.deepEqual(
    gw.received.map((g) => (g.env.detail as { text: string }).text),
    ['forged mark', 'junk mark', 'last'],
  )
})

test('the gateway down for a while: the envelope is sent again until it is taken', async () => {
  gw.reset()
  await gw.down()
  const r = await write({}, 'while the gateway was down')
  assert.equal(r.status, 200)
  await sleep(1000)
  assert.equal(gw.received.length, 0)
  await gw.up()
  const [got] = await gw.waitFor(1, 10_000)
  assert.equal((got!.env.detail as { text: string }).text, 'while the gateway was down')
  assert.match(svc.output, /publishing demo:added \S+ failed \(.*ECONNREFUSED\); trying again in 100 ms/)
  await logged(/published demo:added \S+ after \d+ tries/)
})

test('a gateway that does not answer never holds up the response; each try is cut off after 2 s', async () => {
  gw.reset()
  gw.hang = 1
  const started = Date.now()
  const r = await write({}, 'slow gateway')
  assert.equal(r.status, 200)
  assert.ok(Date.now() - started < 1000, `the write took ${Date.now() - started} ms`)
  const [got] = await gw.waitFor(1, 8000)
  assert.equal((got!.env.detail as { text: string }).text, 'slow gateway')
  assert.equal(gw.tries, 2)
})

test('a 4xx from the gateway is final: given up at once and logged, and the next envelope still goes', async () => {
  gw.reset()
  gw.status = 401
  await write({}, 'refused')
  await logged(/gave up publishing demo:added \S+ \(refused: not tried again\): .* answered 401/)
  assert.equal(gw.tries, 1)
  gw.status = 202
  await write({}, 'accepted')
  const [got] = await gw.waitFor(1)
  assert.equal((got!.env.detail as { text: string }).text, 'accepted')
  assert.equal(gw.tries, 2)
})

test('without DX_EVENT_SECRET nothing is published, and the service says so once at start', async () => {
  const quiet = await new FakeGateway().start()
  const p = await new Proc({ name: 'demo', entry, port: await freePort(), env: { DX_EVENT_SECRET: '', DX_PUBLISH_URL: quiet.url } }).start()
  try {
    const r = await fetch(`${p.url}/demo/items`, { method: 'POST', body: 'x' })
    assert.ok(r.headers.get('hx-trigger'))
    await fetch(`${p.url}/demo/items`, { method: 'POST', body: 'y' })
    await sleep(500)
    assert.equal(quiet.tries, 0)
    const lines = p.output.match(/DX_EVENT_SECRET is not set: events are refused \(POST \/_dx\/events answers 503\) and events of writes made on this port are not published/g)
    assert.equal(lines?.length, 1)
  } finally {
    await p.stop()
    await quiet.down()
  }
})

test('the gateway mark is compared whole and in constant time', () => {
  const mark = gatewayMark(SECRET)
  assert.equal(fromGateway(mark, SECRET), true)
  assert.equal(fromGateway(undefined, SECRET), false)
  assert.equal(fromGateway('', SECRET), false)
  assert.equal(fromGateway(mark.slice(0, -1), SECRET), false)
  assert.equal(fromGateway(mark + '0', SECRET), false)
  assert.equal(fromGateway(gatewayMark('other'), SECRET), false)
})
