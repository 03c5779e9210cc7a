import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { sign, type Envelope } from '../src/events.js'
import { createService } from '../src/service.js'
import { logThrottle } from '../src/throttle.js'

const SECRET = 'receive-test-secret'

/** Sets env for one test and puts it back after. */
function withEnv(t: TestContext, env: Record<string, string | undefined>) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  for (const [k, v] of Object.entries(env)) v === undefined ? delete process.env[k] : (process.env[k] = v)
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v)
  })
}

/** A service subscribed to todo:added whose handler does what `handle` says; `seen` lists what it was given. */
function subscriber(handle: (e: Envelope) => void | Promise<void> = () => {}) {
  const seen: Envelope[] = []
  const svc = createService({
    name: 'demo',
    title: 'Demo',
    subscribes: ['todo:added'],
    onEvent: async (e) => {
      seen.push(e)
      await handle(e)
    },
  })
  return { app: svc.app, seen }
}

const envelope = (fields: Partial<Envelope> = {}): Envelope => ({
  id: 'ev-1',
  name: 'todo:added',
  detail: { id: 1, text: 'buy milk' },
  source: 'todo',
  time: new Date().toISOString(),
  ...fields,
})

function deliver(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, body: unknown, signature?: string | null) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signature !== null) headers['x-dx-signature'] = signature ?? sign(text, SECRET)
  return app.request('/_dx/events', { method: 'POST', body: text, headers })
}

test('no DX_EVENT_SECRET: every event is refused with 503 and a clear message', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: undefined })
  const { app, seen } = subscriber()
  const r = await deliver(app, envelope())
  assert.equal(r.status, 503)
  assert.deepEqual(await r.json(), { error: 'events are refused: DX_EVENT_SECRET is not set' })
  withEnv(t, { DX_EVENT_SECRET: '' })
  assert.equal((await deliver(app, envelope())).status, 503)
  assert.deepEqual(seen, [])
})

test('a bad or missing signature: 401, the handler never runs', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: SECRET })
  const { app, seen } = subscriber()
  const body = JSON.stringify(envelope())
  for (const signature of [null, '', 'not-hex', sign(body, 'another-secret'), sign(body + ' ', SECRET)]) {
    const r = await deliver(app, body, signature)
    assert.equal(r.status, 401, String(signature))
    assert.deepEqual(await r.json(), { error: 'bad or missing X-Dx-Signature' })
  }
  // The body signed is the body checked: a signature with "sha256=" in front is accepted too.
  assert.equal((await deliver(app, body, `sha256=${sign(body, SECRET)}`)).status, 200)
  assert.equal(seen.length, 1)
})

test('a body that is not JSON or not an envelope: 400 naming what is wrong', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: SECRET })
  const { app, seen } = subscriber()
  const cases: Array<[unknown, RegExp]> = [
    ['{"id": "x",', /^body is not JSON$/],
    [[1, 2], /expected a JSON object/],
    [{ ...envelope(), id: '' }, /^bad event envelope: id: /],
    [{ ...envelope(), name: 'TodoAdded' }, /^bad event envelope: name: expected "service:verb"/],
    [{ ...envelope(), source: 'Not A Service' }, /^bad event envelope: source: /],
    [{ ...envelope(), time: 'yesterday' }, /^bad event envelope: time: /],
    [{ ...envelope(), actor: '<b>ana</b>' }, /^bad event envelope: actor: /],
    [{ ...envelope(), detail: { big: 'x'.repeat(9000) } }, /detail over 8192 bytes/],
  ]
  for (const [body, want] of cases) {
    const r = await deliver(app, body)
    assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80))
    assert.match(((await r.json()) as { error: string }).error, want)
  }
  assert.deepEqual(seen, [])
})

test('an envelope more than 10 minutes old (or ahead) is refused as a replay', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: SECRET })
  const { app, seen } = subscriber()
  const old = await deliver(app, envelope({ time: new Date(Date.now() - 11 * 60_000).toISOString() }))
  assert.equal(old.status, 400)
  assert.match(((await old.json()) as { error: string }).error, /^event refused: time .* is 11 minutes old; at most 10 are accepted$/)
  const ahead = await deliver(app, envelope({ id: 'ev-2', time: new Date(Date.now() + 60 * 60_000).toISOString() }))
  assert.equal(ahead.status, 400)
  assert.match(((await ahead.json()) as { error: string }).error, /60 minutes ahead/)
  assert.equal((await deliver(app, envelope({ id: 'ev-3', time: new Date(Date.now() - 9 * 60_000).toISOString() }))).status, 200)
  assert.deepEqual(
    seen.map((e) => e.id),
    ['ev-3'],
  )
})

test('a handler that throws: 500 with the reason; the redelivery runs it again and is ok; then "duplicate"', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: SECRET })
  let failures = 1
  const { app, seen } = subscriber(() => {
    if (failures-- > 0) throw new Error('the database is locked')
  })
  const e = envelope({ id: 'retry-me' })
  const first = await deliver(app, e)
  assert.equal(first.status, 500)
  assert.deepEqual(await first.json(), { error: 'the handler of todo:added failed: the database is locked' })
  const second = await deliver(app, e)
  assert.equal(second.status, 200)
  assert.deepEqual(await second.json(), { status: 'ok' })
  const third = await deliver(app, e)
  assert.equal(third.status, 200)
  assert.deepEqual(await third.json(), { status: 'duplicate' })
  assert.equal(seen.length, 2, 'run twice: once failed, once applied; never a third time')
})

test('the same id delivered again while its handler still runs waits for it and is not run twice', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: SECRET })
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const { app, seen } = subscriber(() => gate)
  const e = envelope({ id: 'slow' })
  const first = deliver(app, e)
  await new Promise((r) => setTimeout(r, 20))
  const again = deliver(app, e)
  await new Promise((r) => setTimeout(r, 20))
  release()
  assert.deepEqual(await (await first).json(), { status: 'ok' })
  assert.deepEqual(await (await again).json(), { status: 'duplicate' })
  assert.equal(seen.length, 1)
})

test('an event this service does not subscribe to is answered "ignored" and not handled', async (t) => {
  withEnv(t, { DX_EVENT_SECRET: SECRET })
  const { app, seen } = subscriber()
  const r = await deliver(app, envelope({ name: 'news:favorited', detail: { id: 1, title: 'x' } }))
  assert.equal(r.status, 200)
  assert.deepEqual(await r.json(), { status: 'ignored' })
  assert.deepEqual(seen, [])
  const manifest = (await (await app.request('/_dx/manifest')).json()) as { subscribes: string[] }
  assert.deepEqual(manifest.subscribes, ['todo:added'])
})

test('log throttle: the first line at once, then one per interval with the count', () => {
  let now = 0
  const allow = logThrottle(60_000, () => now)
  assert.equal(allow('signature'), '')
  now = 1000
  assert.equal(allow('signature'), null)
  assert.equal(allow('signature'), null)
  assert.equal(allow('other'), '')
  now = 61_000
  assert.equal(allow('signature'), ' (3 times in the last 61 s)')
  now = 62_000
  assert.equal(allow('signature'), null)
})
