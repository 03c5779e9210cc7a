import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { createMetrics, DURATION_BUCKETS } from '../src/metrics.js'
import { requestId } from '../src/request-id.js'
import type { StatusSnapshot } from '../src/status/snapshot.js'

const TODO_A = 'http://127.0.0.1:4001'
const TODO_B = 'http://127.0.0.1:4011'

function snapshot(): StatusSnapshot {
  return {
    time: '2030-01-01T00:00:00.000Z',
    gateway: { uptimeS: 12, draining: false, bus: 'memory' },
    services: [
      {
        name: 'todo',
        title: 'Todo',
        subscribes: [],
        replicas: [
          { url: TODO_A, health: 'up', breaker: 'closed', rps: 0, p50Ms: null, p99Ms: null },
          { url: TODO_B, health: 'down', breaker: 'open', rps: 0, p50Ms: null, p99Ms: null },
        ],
        deliveries: { ok: 7, retried: 0, failed: 0, dropped: 0 },
      },
      {
        name: 'chat',
        title: 'Chat',
        subscribes: ['todo:added'],
        replicas: [{ url: 'http://127.0.0.1:4002', health: 'draining', breaker: 'half-open', rps: 0, p50Ms: null, p99Ms: null }],
        deliveries: { ok: 40, retried: 3, failed: 2, dropped: 1 },
      },
    ],
    events: { relayed: { 'todo:added': 3, 'news:favorited': 1 }, notRelayed: 4, sseClients: 5, sseDropped: 6 },
  }
}

/** Every sample line of an exposition, by its name and labels as written. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    out.set(m[1], Number(m[2]))
  }
  return out
}

test('the exposition has every metric, with its labels, after a few requests', async () => {
  let snap = snapshot()
  let taken = 0
  const m = createMetrics({
    snapshot: () => {
      taken++
      return snap
    },
  })
  const todo = m.forService('todo')
  todo.requestDone('GET', 200, 0.004)
  todo.requestDone('GET', 200, 0.005)
  todo.requestDone('POST', 502, 0.2)
  todo.requestDone('GET', 503, 0.0004)
  todo.fallback('fallback')
  todo.fallback('fallback')
  todo.fallback('stale')
  m.forService('chat').requestDone('BREW', 0, 12)

  const text = await m.text()
  assert.equal(taken, 1, 'one snapshot per scrape, shared by every gauge')
  const s = samples(text)
  const has = (key: string, value: number) => assert.equal(s.get(key), value, `${key} in\n${text}`)

  for (const [name, type] of [
    ['dx_http_requests_total', 'counter'],
    ['dx_http_request_duration_seconds', 'histogram'],
    ['dx_upstream_up', 'gauge'],
    ['dx_breaker_state', 'gauge'],
    ['dx_fallbacks_total', 'counter'],
    ['dx_events_relayed_total', 'counter'],
    ['dx_event_deliveries_total', 'counter'],
    ['dx_sse_clients', 'gauge'],
  ]) {
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'))
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'))
  }
  has('dx_http_requests_total{service="todo",method="GET",status="200"}', 2)
  has('dx_http_requests_total{service="todo",method="POST",status="502"}', 1)
  has('dx_http_requests_total{service="todo",method="GET",status="503"}', 1)
  has('dx_http_requests_total{service="chat",method="other",status="none"}', 1)
  has('dx_http_request_duration_seconds_bucket{service="todo",le="0.001"}', 1)
  // A bound is inclusive: 0.005 s is in le="0.005".
  has('dx_http_request_duration_seconds_bucket{service="todo",le="0.005"}', 3)
  has('dx_http_request_duration_seconds_bucket{service="todo",le="0.1"}', 3)
  has('dx_http_request_duration_seconds_bucket{service="todo",le="0.25"}', 4)
  has('dx_http_request_duration_seconds_bucket{service="todo",le="+Inf"}', 4)
  has('dx_http_request_duration_seconds_count{service="todo"}', 4)
  assert.ok(Math.abs(s.get('dx_http_request_duration_seconds_sum{service="todo"}')! - 0.2094) < 1e-9)
  has('dx_http_request_duration_seconds_bucket{service="chat",le="10"}', 0)
  has('dx_http_request_duration_seconds_bucket{service="chat",le="+Inf"}', 1)
  assert.equal([...s.keys()].filter((k) => k.startsWith('dx_http_request_duration_seconds_bucket{service="todo"')).length, DURATION_BUCKETS.length + 1)
  has('dx_fallbacks_total{service="todo",kind="fallback"}', 2)
  has('dx_fallbacks_total{service="todo",kind="stale"}', 1)

  // Read from the snapshot at scrape time.
  has('dx_upstream_up{service="todo",replica="http://127.0.0.1:4001"}', 1)
  has('dx_upstream_up{service="todo",replica="http://127.0.0.1:4011"}', 0)
  has('dx_upstream_up{service="chat",replica="http://127.0.0.1:4002"}', 0)
  has('dx_breaker_state{service="todo",replica="http://127.0.0.1:4001"}', 0)
  has('dx_breaker_state{service="todo",replica="http://127.0.0.1:4011"}', 2)
  has('dx_breaker_state{service="chat",replica="http://127.0.0.1:4002"}', 1)
  has('dx_events_relayed_total{name="todo:added"}', 3)
  has('dx_events_relayed_total{name="news:favorited"}', 1)
  has('dx_events_not_relayed_total', 4)
  has('dx_event_deliveries_total{service="chat",result="ok"}', 40)
  has('dx_event_deliveries_total{service="chat",result="retried"}', 3)
  has('dx_event_deliveries_total{service="chat",result="failed"}', 2)
  has('dx_event_deliveries_total{service="chat",result="dropped"}', 1)
  has('dx_event_deliveries_total{service="todo",result="ok"}', 7)
  has('dx_sse_clients', 5)
  has('dx_sse_clients_dropped_total', 6)
  has('dx_gateway_draining', 0)
  // Node's own, from prom-client's default collectors.
  assert.ok(s.has('process_cpu_user_seconds_total'), 'process metrics')
  assert.ok([...s.keys()].some((k) => k.startsWith('nodejs_eventloop_lag_seconds')), 'event loop lag')

  // The next scrape reads the state as it is then: a replica gone is gone, counts move on.
  snap = snapshot()
  snap.services[0].replicas = [{ ...snap.services[0].replicas[0], health: 'down', breaker: 'open' }]
  snap.events.relayed['todo:added'] = 10
  snap.events.sseClients = 0
  snap.gateway.draining = true
  todo.requestDone('GET', 200, 0.001)
  const s2 = samples(await m.text())
  assert.equal(taken, 2)
  assert.equal(s2.get('dx_upstream_up{service="todo",replica="http://127.0.0.1:4001"}'), 0)
  assert.equal(s2.get('dx_breaker_state{service="todo",replica="http://127.0.0.1:4001"}'), 2)
  assert.equal(s2.has('dx_upstream_up{service="todo",replica="http://127.0.0.1:4011"}'), false)
  assert.equal(s2.get('dx_events_relayed_total{name="todo:added"}'), 10)
  assert.equal(s2.get('dx_sse_clients'), 0)
  assert.equal(s2.get('dx_gateway_draining'), 1)
  assert.equal(s2.get('dx_http_requests_total{service="todo",method="GET",status="200"}'), 3)
})

test('GET /metrics answers the Prometheus text format with its content type; a snapshot can be given later', async () => {
  const m = createMetrics({ processMetrics: false })
  m.forService('news').requestDone('GET', 200, 0.01)
  const app = new Hono()
  app.get('/metrics', m.handler)
  let r = await app.request('/metrics')
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  assert.equal(r.headers.get('cache-control'), 'no-store')
  let body = await r.text()
  assert.match(body, /^dx_http_requests_total\{service="news",method="GET",status="200"\} 1$/m)
  // Without a snapshot the mirrored gauges are empty, and nothing throws.
  assert.match(body, /^dx_sse_clients 0$/m)
  assert.doesNotMatch(body, /^process_cpu/m)
  m.setSnapshot(snapshot)
  r = await app.request('/metrics')
  body = await r.text()
  assert.match(body, /^dx_sse_clients 5$/m)
  samples(body)
})

test('the bound object of a service: found once, then plain array and map updates', () => {
  const m = createMetrics({ processMetrics: false })
  const todo = m.forService('todo')
  assert.equal(m.forService('todo'), todo)
  assert.notEqual(m.forService('chat'), todo)
  todo.requestDone('GET', 200, 0.003)
  todo.requestDone('GET', 200, 0.0025)
  todo.requestDone('DELETE', 404, 11)
  todo.requestDone('GET', 1000, 0.001)
  todo.requestDone(undefined, 499, 0)
  // requests[method * 600 + status]: GET 0, DELETE 5, other 7; a status out of range is 0.
  assert.equal(todo.requests[200], 2)
  assert.equal(todo.requests[5 * 600 + 404], 1)
  assert.equal(todo.requests[0], 1)
  assert.equal(todo.requests[7 * 600 + 499], 1)
  assert.equal(todo.requests.reduce((a, b) => a + b, 0), 5)
  // Buckets are per bound (not cumulative here); a bound is inclusive; past the last is +Inf.
  const at = (le: number) => todo.buckets[DURATION_BUCKETS.indexOf(le as (typeof DURATION_BUCKETS)[number])]
  assert.equal(at(0.001), 2)
  assert.equal(at(0.0025), 1)
  assert.equal(at(0.005), 1)
  assert.equal(todo.buckets[DURATION_BUCKETS.length], 1)
  assert.equal(todo.count, 5)
  assert.ok(Math.abs(todo.sum - 11.0065) < 1e-9)
  todo.fallback('fallback')
  todo.fallback('error-page')
  todo.fallback('fallback')
  assert.deepEqual([...todo.fallbacks], [['fallback', 2], ['error-page', 1]])
})

test('requestId keeps a sane X-Request-Id and makes one otherwise', () => {
  assert.equal(requestId('abc-123_X.y'), 'abc-123_X.y')
  assert.equal(requestId('a'.repeat(64)), 'a'.repeat(64))
  const fresh = /^[0-9a-f]{32}$/
  for (const bad of [undefined, '', 'a'.repeat(65), 'has space', 'line\nbreak', 'ünïcode', 'a,b', '<script>', 'x;y']) {
    assert.match(requestId(bad), fresh, String(bad))
  }
  // Past one batch of random bytes too: never the same id twice.
  const ids = new Set(Array.from({ length: 1000 }, () => requestId(undefined)))
  assert.equal(ids.size, 1000)
})
