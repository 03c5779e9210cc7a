import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, test } from 'node:test'
import { parseConfig } from '../src/config.js'
import { checkManifest } from '../src/health/manifest.js'
import { createRegistry } from '../src/health/registry.js'
import { Upstreams } from '../src/proxy/upstreams.js'

type Mode = 'ok' | 'hang' | 'draining' | 'no-manifest' | 'other-name' | 'not-json'

/** A local replica of service "svc" whose behaviour a test switches; it can be stopped and started on the same port. */
class Replica {
  mode: Mode = 'ok'
  server: Server | undefined
  port = 0
  /** Requests being answered now, and the most at once. */
  open = 0
  maxOpen = 0
  healthz = 0

  handle = (req: IncomingMessage, res: ServerResponse) => {
    this.open++
    this.maxOpen = Math.max(this.maxOpen, this.open)
    res.on('close', () => this.open--)
    if (req.url === '/healthz') this.healthz++
    if (this.mode === 'hang') return
    if (req.url === '/healthz') {
      if (this.mode === 'draining') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"draining"}')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    }
    if (req.url === '/_dx/manifest') {
      if (this.mode === 'no-manifest') return void res.writeHead(404).end('Not Found')
      if (this.mode === 'not-json') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hello</h1>')
      const name = this.mode === 'other-name' ? 'chat' : 'svc'
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, prefix: `/${name}`, widget: `/${name}`, subscribes: [] }))
    }
    res.writeHead(404).end()
  }

  async start() {
    this.server = createServer(this.handle)
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async stop() {
    const s = this.server
    this.server = undefined
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }

  get url() {
    return new URL(`http://127.0.0.1:${this.port}`)
  }
}

const started: Replica[] = []
async function replica(mode: Mode = 'ok') {
  const r = new Replica()
  r.mode = mode
  started.push(r)
  return r.start()
}
after(() => Promise.all(started.map((r) => r.stop())))

function logs() {
  const lines: string[] = []
  const log = {
    info: (m: string) => void lines.push(`INFO ${m}`),
    warn: (m: string) => void lines.push(`WARN ${m}`),
    error: (m: string) => void lines.push(`ERROR ${m}`),
  }
  return { lines, log, count: (re: RegExp) => lines.filter((l) => re.test(l)).length }
}

function setup(replicas: Replica[], intervalMs = 1000) {
  const upstreams = new Upstreams(replicas.map((r) => r.url))
  const l = logs()
  const ups: string[] = []
  const registry = createRegistry({
    routes: [{ service: { name: 'svc' }, upstreams }],
    intervalMs,
    log: l.log,
    onUp: (service, url) => ups.push(`${service} ${url.origin}`),
  })
  const health = (i: number) => upstreams.replicas[i].health
  const picks = (n = 6) => Array.from({ length: n }, () => Number(upstreams.pick()?.port))
  return { upstreams, registry, ...l, ups, health, picks }
}

async function waitFor(what: string, cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('manifest validation', () => {
  test('missing, not JSON, not an object, another service: not a distributex service, with the reason', () => {
    assert.deepEqual(checkManifest('todo', 404, 'Not Found'), { ok: false, reason: 'not a distributex service: GET /_dx/manifest answered 404' })
    assert.deepEqual(checkManifest('todo', 200, '<html>'), { ok: false, reason: 'not a distributex service: GET /_dx/manifest is not JSON' })
    assert.deepEqual(checkManifest('todo', 200, '[1]'), { ok: false, reason: 'not a distributex service: GET /_dx/manifest is not a JSON object' })
    assert.deepEqual(checkManifest('todo', 200, 'null'), { ok: false, reason: 'not a distributex service: GET /_dx/manifest is not a JSON object' })
    assert.deepEqual(checkManifest('todo', 200, '{"name":"chat"}'), { ok: false, reason: 'not a distributex service: its manifest names "chat", not "todo"' })
    assert.deepEqual(checkManifest('todo', 200, '{"title":"x"}'), { ok: false, reason: 'not a distributex service: its manifest names no name, not "todo"' })
  })

  test('the right name passes', () => {
    const m = checkManifest('todo', 200, '{"name":"todo","prefix":"/todo","widget":"/todo","subscribes":["news:favorited"]}')
    assert.equal(m.ok, true)
    assert.equal(m.ok && m.manifest.prefix, '/todo')
  })
})

describe('health registry against real replicas', () => {
  test('one success marks it up; two failed probes in a row mark it down; one success brings it back', async () => {
    const a = await replica()
    const b = await replica()
    const { registry, health, picks, ups, count, upstreams } = setup([a, b])
    assert.equal(health(0), 'unknown')
    await registry.probeAll()
    assert.deepEqual([health(0), health(1)], ['up', 'up'])
    assert.deepEqual(ups.sort(), [`svc ${a.url.origin}`, `svc ${b.url.origin}`].sort())

    await a.stop() // refuses connections now
    await registry.probeAll()
    assert.equal(health(0), 'up', 'one failed probe is not enough')
    await registry.probeAll()
    assert.equal(health(0), 'down')
    assert.match(upstreams.replicas[0].reason, /GET \/healthz: ECONNREFUSED \(2 probes in a row\)/)
    assert.deepEqual(picks(), Array(6).fill(b.port), 'a down replica gets no requests')
    await registry.probeAll()
    assert.equal(count(/is down/), 1, 'logged once')

    await a.start() // same port
    await registry.probeAll()
    assert.equal(health(0), 'up')
    assert.equal(upstreams.replicas[0].reason, '')
    assert.equal(ups.filter((u) => u === `svc ${a.url.origin}`).length, 2, 'onUp again after down')
    assert.deepEqual(new Set(picks()), new Set([a.port, b.port]))
    assert.equal(count(/is up \(was down\)/), 1)
    const snap = registry.snapshot().services[0].replicas[0]
    assert.equal(snap.lastError?.message, 'GET /healthz: ECONNREFUSED')
  })

  test('a replica that stops answering goes down within the probe loop, is logged once, and comes back', async () => {
    const a = await replica()
    const { registry, health, count, lines } = setup([a], 100)
    registry.start()
    try {
      await waitFor('up', () => health(0) === 'up')
      a.mode = 'hang'
      await waitFor('down', () => health(0) === 'down')
      const probes = a.healthz
      await waitFor('three more probes', () => a.healthz >= probes + 3)
      assert.equal(count(/is down/), 1, lines.join('\n'))
      assert.match(lines.find((l) => /is down/.test(l))!, /timed out/)
      assert.ok(a.maxOpen <= 1, `at most one probe in flight per replica, saw ${a.maxOpen}`)
      a.mode = 'ok'
      await waitFor('up again', () => health(0) === 'up')
      assert.equal(count(/is up/), 2)
    } finally {
      registry.stop()
    }
    const n = a.healthz
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(a.healthz, n, 'no probes after stop()')
  })

  test('a replica answering 503 on /healthz is draining and gets no requests', async () => {
    const a = await replica('draining')
    const b = await replica()
    const { registry, health, picks, count, upstreams } = setup([a, b])
    await registry.probeAll()
    assert.equal(health(0), 'draining')
    assert.equal(upstreams.replicas[0].reason, 'GET /healthz answered 503')
    assert.deepEqual(picks(), Array(6).fill(b.port))
    await registry.probeAll()
    assert.equal(count(/is draining/), 1)
    a.mode = 'ok'
    await registry.probeAll()
    assert.equal(health(0), 'up')
  })

  test('a foreign server (no manifest, or another service\'s) is foreign with the reason and never picked', async () => {
    const plain = await replica('no-manifest')
    const chat = await replica('other-name')
    const html = await replica('not-json')
    const svc = await replica()
    const { registry, health, picks, count, upstreams, ups } = setup([plain, chat, html, svc])
    await registry.probeAll()
    await registry.probeAll()
    assert.deepEqual([0, 1, 2, 3].map(health), ['foreign', 'foreign', 'foreign', 'up'])
    assert.equal(upstreams.replicas[0].reason, 'not a distributex service: GET /_dx/manifest answered 404')
    assert.equal(upstreams.replicas[1].reason, 'not a distributex service: its manifest names "chat", not "svc"')
    assert.equal(upstreams.replicas[2].reason, 'not a distributex service: GET /_dx/manifest is not JSON')
    assert.deepEqual(picks(12), Array(12).fill(svc.port))
    assert.equal(count(/gets no traffic: not a distributex service/), 3, 'each logged once')
    assert.deepEqual(ups, [`svc ${svc.url.origin}`])
    const snap = registry.snapshot().services[0]
    assert.equal(snap.usable, 1)
    assert.equal(snap.replicas[0].reason, 'not a distributex service: GET /_dx/manifest answered 404')

    // The real service takes its place: picked up at the next probe.
    plain.mode = 'ok'
    await registry.probeAll()
    assert.equal(health(0), 'up')
    assert.equal(ups.length, 2)
  })

  test('a replica that is up is checked again after manifestEveryMs, so an impostor is found', async () => {
    const a = await replica()
    const upstreams = new Upstreams([a.url])
    const l = logs()
    const registry = createRegistry({ routes: [{ service: { name: 'svc' }, upstreams }], intervalMs: 1000, manifestEveryMs: 1, log: l.log })
    await registry.probeAll()
    assert.equal(upstreams.replicas[0].health, 'up')
    a.mode = 'other-name'
    await new Promise((r) => setTimeout(r, 5))
    await registry.probeAll()
    assert.equal(upstreams.replicas[0].health, 'foreign')
  })

  test('snapshot: plain data per service and replica, and breaker changes are logged once', async () => {
    const a = await replica()
    const { registry, upstreams, count } = setup([a])
    await registry.probeAll()
    for (let i = 0; i < 5; i++) upstreams.report(a.url, 'connect-fail', 0, 'ECONNREFUSED')
    upstreams.report(a.url, 'connect-fail', 0, 'ECONNREFUSED')
    const snap = registry.snapshot()
    assert.equal(snap.intervalMs, 1000)
    assert.equal(snap.services[0].name, 'svc')
    const r = snap.services[0].replicas[0]
    assert.equal(r.url, a.url.origin)
    assert.equal(r.health, 'up')
    assert.equal(r.usable, false)
    assert.equal(r.breaker.state, 'open')
    assert.ok(r.breaker.retryAt)
    assert.equal(r.breaker.failuresInWindow, 5, "outcomes while open do not count")
    assert.equal(r.lastError?.message, 'ECONNREFUSED')
    assert.match(r.lastError!.at, /^\d{4}-\d\d-\d\dT/)
    assert.equal(count(/circuit open \(5 connect failures in a row\)/), 1)
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap)
  })
})

test('[gateway] health_interval_ms: 2000 by default, settable', () => {
  const svc = '[[services]]\nname = "todo"\nupstreams = ["http://127.0.0.1:4001"]\n'
  assert.equal(parseConfig(svc, 'gw.toml').healthIntervalMs, 2000)
  assert.equal(parseConfig(`[gateway]\nhealth_interval_ms = 500\n${svc}`, 'gw.toml').healthIntervalMs, 500)
  // 0 turns probing off; below that is an error.
  assert.equal(parseConfig(`[gateway]\nhealth_interval_ms = 0\n${svc}`, 'gw.toml').healthIntervalMs, 0)
  assert.throws(() => parseConfig(`[gateway]\nhealth_interval_ms = -1\n${svc}`, 'gw.toml'), /health_interval_ms/)
})
