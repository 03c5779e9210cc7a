// Chaos, on loopback only: two todo replicas behind a real gateway under a bounded load of
// widget reads and writes, while replicas are killed, restarted and replaced.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { freePort, Proc, sleep } from '@dx/testkit'

const dir = mkdtempSync(join(tmpdir(), 'dx-chaos-'))
const htmx = { 'hx-request': 'true' }
let a: Proc
let b: Proc
let gw: Proc
let ports: { a: number; b: number }

const replica = (port: number, name: string) =>
  new Proc({ name, entry: 'services/todo/src/main.ts', port, env: { TODO_DB: join(dir, 'todo.db'), DX_EVENT_SECRET: 'chaos' } })

before(async () => {
  ports = { a: await freePort(), b: await freePort() }
  a = await replica(ports.a, 'todo-a').start()
  b = await replica(ports.b, 'todo-b').start()
  writeFileSync(join(dir, 'gw.toml'), '[gateway]\nhealth_interval_ms = 500\n[[services]]\nname = "todo"\nupstreams = ["http://127.0.0.1:1"]\n')
  gw = await new Proc({
    name: 'gateway',
    entry: 'gateway/src/main.ts',
    port: await freePort(),
    env: { DX_CONFIG: join(dir, 'gw.toml'), TODO_URL: `http://127.0.0.1:${ports.a},http://127.0.0.1:${ports.b}`, DX_EVENT_SECRET: 'chaos' },
  }).start()
  await sleep(700) // one round of probes: both replicas known to be up
})
after(async () => {
  await gw?.stop()
  await a?.stop()
  await b?.stop()
})

type Tally = { reads: number[]; writes: number[]; slowest: number }

/** Widget reads and writes through the gateway for `ms`, at a bounded pace; every request bounded too. */
async function load(ms: number): Promise<Tally> {
  const t: Tally = { reads: [], writes: [], slowest: 0 }
  const until = Date.now() + ms
  let n = 0
  const worker = async () => {
    while (Date.now() < until) {
      const write = n++ % 4 === 0
      const t0 = Date.now()
      const r = await fetch(`${gw.url}/todo${write ? '/items' : ''}`, {
        method: write ? 'POST' : 'GET',
        headers: write ? { ...htmx, 'content-type': 'application/x-www-form-urlencoded' } : htmx,
        body: write ? `text=chaos+${n}` : undefined,
        signal: AbortSignal.timeout(8000),
      })
      await r.arrayBuffer()
      t.slowest = Math.max(t.slowest, Date.now() - t0)
      ;(write ? t.writes : t.reads).push(r.status)
      await sleep(20)
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  return t
}

const status = async () => (await (await fetch(`${gw.url}/_dx/status.json`)).json()) as { services: Array<{ name: string; replicas: Array<{ url: string; health: string; reason?: string; breaker: string }> }> }
const replicaState = async (port: number) => (await status()).services[0].replicas.find((r) => r.url.endsWith(`:${port}`))!

test('one replica killed mid-run: no 5xx reaches a widget read, writes succeed or fail clearly, nothing hangs', async () => {
  const running = load(3000)
  await sleep(800)
  await a.kill9()
  const t = await running
  assert.ok(t.reads.length > 20 && t.writes.length > 5, `load ran: ${t.reads.length} reads, ${t.writes.length} writes`)
  assert.deepEqual(t.reads.filter((s) => s !== 200), [], 'every widget read answered 200')
  assert.deepEqual(t.writes.filter((s) => s !== 200 && s !== 502 && s !== 503 && s !== 504), [], 'writes: saved, or a clear gateway error')
  assert.ok(t.slowest < 8000, 'no request hung')
  // Within one health interval the status page has it down.
  await sleep(1200)
  assert.equal((await replicaState(ports.a)).health, 'down')
})

test('both replicas down: a stale copy or the fallback at once, never a hang', async () => {
  await b.kill9()
  await sleep(1200)
  const t0 = Date.now()
  const r = await fetch(`${gw.url}/todo`, { headers: htmx, signal: AbortSignal.timeout(3000) })
  assert.equal(r.status, 200)
  assert.ok(['stale', 'unavailable', 'refused'].includes(r.headers.get('x-dx-fallback')!), r.headers.get('x-dx-fallback')!)
  assert.ok(Date.now() - t0 < 1000)
  const w = await fetch(`${gw.url}/todo/items`, { method: 'POST', headers: { ...htmx, 'content-type': 'application/x-www-form-urlencoded' }, body: 'text=x' })
  assert.ok([502, 503].includes(w.status))
  assert.match(await w.text(), /not saved/)
})

test('restarted: traffic returns within one health interval', async () => {
  await a.start()
  await b.start()
  await sleep(1200)
  const r = await fetch(`${gw.url}/todo`, { headers: htmx })
  assert.equal(r.headers.get('x-dx-fallback'), null)
  assert.match(await r.text(), /data-dx-widget="todo"/)
  for (const p of [ports.a, ports.b]) assert.equal((await replicaState(p)).health, 'up')
})

test('a foreign HTTP server on a replica port gets no traffic, and the status page says why', async (t) => {
  await b.stop()
  let hits = 0
  const foreign = createServer((req, res) => {
    if (req.url !== '/healthz') hits++
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/html' }).end('<h1>Not the todo service</h1>')
  })
  await new Promise<void>((r) => foreign.listen(ports.b, '127.0.0.1', r))
  // Closed even when an assertion fails: a server left listening keeps the test file from ending.
  t.after(() => new Promise<void>((r) => foreign.close(() => r())))
  await sleep(1500)
  const before = hits
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${gw.url}/todo`, { headers: htmx })
    assert.match(await r.text(), /data-dx-widget="todo"/, 'served by the real replica')
  }
  // Its manifest is read when it shows up; after that nothing but probes reach it.
  assert.ok(hits - before <= 1, `${hits - before} requests reached the foreign server`)
  const state = await replicaState(ports.b)
  assert.equal(state.health, 'foreign')
  assert.match(state.reason ?? '', /not a distributex service/)
  const page = await (await fetch(`${gw.url}/_dx/status`)).text()
  assert.match(page, /not a distributex service/)
})
