import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildSnapshot, busLabel, serviceHealth, statusRoutes, type StatusSnapshot } from '../src/status/index.js'

const HOSTILE = '<img src=x onerror=alert(1)>'

function snapshot(): StatusSnapshot {
  return {
    time: '2030-01-01T12:00:30.000Z',
    gateway: { uptimeS: 3725, draining: false, bus: 'memory' },
    services: [
      {
        name: 'todo',
        title: 'Todo',
        subscribes: [],
        replicas: [
          { url: 'http://127.0.0.1:4001', health: 'up', breaker: 'closed', rps: 12.345, p50Ms: 1.24, p99Ms: 48.6 },
          {
            url: 'http://127.0.0.1:4011',
            health: 'down',
            breaker: 'open',
            rps: 0,
            p50Ms: null,
            p99Ms: null,
            lastError: { message: HOSTILE, at: '2030-01-01T12:00:18.000Z' },
          },
        ],
        deliveries: { ok: 5, retried: 0, failed: 0, dropped: 0 },
      },
      {
        name: 'chat',
        title: 'Chat',
        subscribes: ['todo:added', 'news:favorited'],
        replicas: [{ url: 'http://127.0.0.1:4002', health: 'down', breaker: 'open', rps: 0, p50Ms: null, p99Ms: null, lastError: { message: 'refused the connection (ECONNREFUSED)', at: '2030-01-01T11:58:30.000Z' } }],
        deliveries: { ok: 40, retried: 3, failed: 2, dropped: 0 },
      },
      {
        name: 'news',
        title: 'News <b>',
        subscribes: [],
        replicas: [
          { url: 'http://127.0.0.1:8080', health: 'foreign', reason: 'GET /_dx/manifest answered 404 <nginx>', breaker: 'closed', rps: 0, p50Ms: null, p99Ms: null },
          { url: 'http://127.0.0.1:4003', health: 'up', breaker: 'half-open', rps: 0.5, p50Ms: 1500, p99Ms: 2500 },
        ],
        deliveries: { ok: 0, retried: 0, failed: 0, dropped: 0 },
      },
    ],
    events: { relayed: { 'todo:added': 3, [`x:${HOSTILE}`]: 1 }, notRelayed: 2, sseClients: 7, sseDropped: 1 },
  }
}

function app(snap: () => StatusSnapshot = snapshot) {
  return statusRoutes(snap)
}

/** The markup of the element that has `attr`, up to its end (elements here do not nest their own kind). */
function element(htmlText: string, tag: string, attr: string): string {
  const start = htmlText.indexOf(attr)
  assert.ok(start >= 0, `no ${attr}`)
  const open = htmlText.lastIndexOf(`<${tag}`, start)
  const close = htmlText.indexOf(`</${tag}>`, start)
  return htmlText.slice(open, close)
}

test('/_dx/status.json is the snapshot, fresh on every request', async () => {
  let calls = 0
  const r = await app(() => (calls++, snapshot())).request('/_dx/status.json')
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(r.headers.get('cache-control'), 'no-store')
  assert.deepEqual(await r.json(), snapshot())
  assert.equal(calls, 1)
})

test('/_dx/status is a whole page that refreshes itself with htmx, with no inline script or style', async () => {
  const r = await app().request('/_dx/status')
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type') ?? '', /^text\/html/)
  assert.equal(r.headers.get('cache-control'), 'no-store')
  const page = await r.text()
  assert.match(page, /^<!doctype html>\s*<html lang="en">/)
  assert.match(page, /<link rel="stylesheet" href="\/assets\/app\.[0-9a-f]{8}\.css"/)
  assert.match(page, /<script src="\/assets\/htmx\.min\.[0-9a-f]{8}\.js" defer><\/script>/)
  // The live part: htmx polls the fragment (a polling trigger: no eval, no filter).
  const live = /<div id="dx-status"([^>]*)>([\s\S]*)<\/main>/.exec(page)
  assert.ok(live, 'the live part')
  assert.match(live[1], /hx-get="\/_dx\/status\/fragment"/)
  assert.match(live[1], /hx-trigger="every 2s"/)
  assert.match(live[1], /hx-swap="innerHTML"/)
  // Rendered at once too: the page is whole before the first refresh.
  assert.match(live[2], /data-service="todo"/)
  // A failed refresh shows in the page (dx.js fills the .dx-error of the widget frame).
  assert.match(page, /data-dx-widget="status"[\s\S]*class="dx-error /)
  // Under the CSP: every script from a file, no <style>, no style attribute, no handlers.
  for (const m of page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="\/assets\//, m[0])
    assert.equal(m[2], '', m[0])
  }
  assert.doesNotMatch(page, /<style/i)
  // (In tags: the hostile last error is on the page, as text.)
  assert.doesNotMatch(page, /<[a-z][^<>]*\sstyle=/i)
  assert.doesNotMatch(page, /<[a-z][^<>]*\son[a-z]+=/i)
  assert.doesNotMatch(page, /hx-on|javascript:/i)
  assert.doesNotMatch(page, /hx-trigger="[^"]*\[/, 'no trigger filters')
})

test('the fragment escapes what it shows: a hostile last error, event name, title and reason stay text', async () => {
  const r = await app().request('/_dx/status/fragment')
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type') ?? '', /^text\/html/)
  assert.equal(r.headers.get('cache-control'), 'no-store')
  const frag = await r.text()
  assert.doesNotMatch(frag, /<html|<!doctype/i, 'a fragment, not a page')
  assert.ok(!frag.includes('<img'), 'no img element')
  assert.ok(!frag.includes('<b>') && !frag.includes('<nginx>'))
  assert.ok(frag.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the error, as text')
  assert.ok(frag.includes('x:&lt;img src=x onerror=alert(1)&gt;'), 'the event name, as text')
  assert.ok(frag.includes('News &lt;b&gt;'))
  // Attributes too: a value with a quote cannot leave its attribute.
  const snap = snapshot()
  snap.services[0].replicas[0].url = 'http://x" onmouseover="alert(1)'
  const bad = await (await app(() => snap).request('/_dx/status/fragment')).text()
  assert.ok(!bad.includes('" onmouseover="'), 'the quote is escaped')
  assert.ok(bad.includes('http://x&quot; onmouseover=&quot;alert(1)'))
})

test('a replica that is down is red and says "down"; one that is up is green; a foreign one says why', async () => {
  const frag = await (await app().request('/_dx/status/fragment')).text()

  const down = element(frag, 'li', 'data-replica="http://127.0.0.1:4011"')
  assert.match(down, /data-health="down"/)
  assert.match(down, /<span class="[^"]*bg-red-100 text-red-800[^"]*" data-tone="red"><span class="[^"]*bg-red-500[^"]*" aria-hidden="true"><\/span>down<\/span>/)
  assert.match(down, /<dd class="[^"]*text-red-700">open<\/dd>/, 'an open breaker is red')
  assert.match(down, /Last error, <time datetime="2030-01-01T12:00:18.000Z"[^>]*>12 s ago<\/time>/)

  const up = element(frag, 'li', 'data-replica="http://127.0.0.1:4001"')
  assert.match(up, /bg-green-100 text-green-800[^"]*" data-tone="green"><span class="[^"]*bg-green-500[^"]*" aria-hidden="true"><\/span>up<\/span>/)
  assert.match(up, /<dd class="[^"]*text-green-700">closed<\/dd>/)
  assert.match(up, /<dd class="tabular-nums">12<\/dd>/, 'requests per second')
  assert.match(up, /<dd class="tabular-nums">1\.2 ms<\/dd>/, 'p50')
  assert.match(up, /<dd class="tabular-nums">49 ms<\/dd>/, 'p99')
  assert.match(up, /No error since the gateway started/)

  const foreign = element(frag, 'li', 'data-replica="http://127.0.0.1:8080"')
  assert.match(foreign, /data-tone="red">.*not a distributex service<\/span>/)
  assert.match(foreign, /GET \/_dx\/manifest answered 404 &lt;nginx&gt;/)

  const slow = element(frag, 'li', 'data-replica="http://127.0.0.1:4003"')
  assert.match(slow, /<dd class="[^"]*text-amber-800">half-open<\/dd>/)
  assert.match(slow, /<dd class="tabular-nums">0\.5<\/dd>/)
  assert.match(slow, /<dd class="tabular-nums">1\.50 s<\/dd>/)

  // A service: red with every replica down, amber with some, its edge in the same colour.
  const chat = element(frag, 'article', 'data-service="chat"')
  assert.match(chat, /^<article class="[^"]*border-l-red-500[^"]*" data-service="chat" data-tone="red">/)
  assert.match(chat, /data-tone="red">.*down<\/span>\s*<\/header>/)
  assert.match(chat, /Last error, <time[^>]*>2 min 0 s ago<\/time>/)
  const todo = element(frag, 'article', 'data-service="todo"')
  assert.match(todo, /data-tone="amber">.*degraded: 1 of 2 replicas up<\/span>/)
  assert.match(todo, /border-l-amber-500/)

  // Events: delivery failures are red, and the counts are there.
  assert.match(element(frag, 'p', 'data-deliveries="chat"'), /text-red-700[\s\S]*40<\/span> ok[\s\S]*3<\/span> retried[\s\S]*2<\/span> failed/)
  assert.doesNotMatch(element(frag, 'p', 'data-deliveries="todo"'), /text-red-700/)
  assert.match(frag, /Subscribes to todo:added, news:favorited/)
  assert.match(frag, /data-sse-clients>7<\/dd>/)
  assert.match(frag, /<td class="[^"]*">todo:added<\/td><td class="[^"]*">3<\/td>/)
  assert.match(frag, /Up for 1 h 2 min/)
  assert.match(frag, /gateway serving/)
})

test('a service is green only when every replica is up', () => {
  const s = snapshot().services[0]
  const all = (health: 'up' | 'down' | 'draining' | 'unknown' | 'foreign') => ({ ...s, replicas: s.replicas.map((r) => ({ ...r, health })) })
  assert.deepEqual(serviceHealth(all('up')), { tone: 'green', words: 'up' })
  assert.deepEqual(serviceHealth(all('down')), { tone: 'red', words: 'down' })
  assert.deepEqual(serviceHealth(all('foreign')), { tone: 'red', words: 'down' })
  assert.deepEqual(serviceHealth(all('draining')), { tone: 'amber', words: 'draining' })
  assert.deepEqual(serviceHealth(all('unknown')), { tone: 'slate', words: 'not checked yet' })
  assert.deepEqual(serviceHealth({ ...s, replicas: [] }), { tone: 'red', words: 'down: no replica configured' })
})

test('buildSnapshot assembles the gateway parts: the health registry, delivery, relay, SSE', () => {
  const a = new URL('http://127.0.0.1:4001')
  const b = new URL('http://127.0.0.1:4011')
  const started = Date.parse('2030-01-01T12:00:00.000Z')
  const snap = buildSnapshot({
    startedAt: started,
    now: started + 90_500,
    draining: false,
    bus: 'nats://user:secret@nats.internal:4222',
    services: [
      { name: 'todo', title: 'Todo', upstreams: [a, b] },
      { name: 'chat', title: 'Chat', upstreams: [new URL('http://127.0.0.1:4002')] },
    ],
    // As registry.snapshot() gives it, with fields the page does not use.
    registry: {
      services: [
        {
          name: 'todo',
          replicas: [
            { url: 'http://127.0.0.1:4001', health: 'up', reason: '', breaker: { state: 'closed' }, rps: 3.2, p50Ms: 2, p99Ms: 9.5, lastError: null },
            {
              url: 'http://127.0.0.1:4011',
              health: 'foreign',
              reason: 'its manifest names "todo2"',
              breaker: { state: 'open' },
              rps: 0,
              p50Ms: null,
              p99Ms: null,
              lastError: { message: 'it refused the connection', at: '2030-01-01T12:01:00.000Z' },
            },
          ],
        },
      ],
    },
    subscriptions: new Map([['chat', new Set(['todo:added'])]]),
    deliveries: new Map([['chat', { ok: 1, retried: 2, failed: 3, dropped: 4 }]]),
    relay: { relayed: new Map([['todo:added', 9]]), notRelayed: 1 },
    sse: { clients: () => 2, dropped: 3 },
  })
  assert.equal(snap.time, '2030-01-01T12:01:30.500Z')
  assert.deepEqual(snap.gateway, { uptimeS: 91, draining: false, bus: 'nats://nats.internal:4222' })
  const [todo, chat] = snap.services
  assert.deepEqual(todo.replicas, [
    { url: 'http://127.0.0.1:4001', health: 'up', breaker: 'closed', rps: 3.2, p50Ms: 2, p99Ms: 9.5 },
    {
      url: 'http://127.0.0.1:4011',
      health: 'foreign',
      reason: 'its manifest names "todo2"',
      breaker: 'open',
      rps: 0,
      p50Ms: null,
      p99Ms: null,
      lastError: { message: 'it refused the connection', at: '2030-01-01T12:01:00.000Z' },
    },
  ])
  assert.deepEqual(todo.deliveries, { ok: 0, retried: 0, failed: 0, dropped: 0 })
  // Not in the registry (yet): unknown, closed, no numbers.
  assert.deepEqual(chat.replicas, [{ url: 'http://127.0.0.1:4002', health: 'unknown', breaker: 'closed', rps: 0, p50Ms: null, p99Ms: null }])
  assert.deepEqual(chat.subscribes, ['todo:added'])
  assert.deepEqual(chat.deliveries, { ok: 1, retried: 2, failed: 3, dropped: 4 })
  assert.deepEqual(snap.events, { relayed: { 'todo:added': 9 }, notRelayed: 1, sseClients: 2, sseDropped: 3 })
  assert.equal(busLabel('memory'), 'memory')
  assert.equal(busLabel('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222')
})
