// Graceful shutdown, as a supervisor does it: SIGTERM while a slow request is in flight.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, Proc, sleep } from '@dx/testkit'
import { upstream } from './helpers.js'

const exited = (p: Proc) => new Promise<number | null>((r) => (p.child!.exitCode !== null ? r(p.child!.exitCode) : p.child!.once('exit', (code) => r(code))))

test('a service stopped with SIGTERM finishes the request in flight, says draining, and exits 0', async () => {
  const demo = await new Proc({ name: 'demo', entry: 'packages/kit/test/fixtures/demo-service.ts', port: await freePort() }).start()
  const slow = fetch(`${demo.url}/demo/slow?ms=1500`).then(async (r) => ({ status: r.status, body: await r.text() }))
  await sleep(300)
  const exit = exited(demo)
  demo.child!.kill('SIGTERM')
  await sleep(100)
  // No new work while draining: either refused outright or told it is draining.
  const health = await fetch(`${demo.url}/healthz`).then((r) => r.status).catch(() => 'refused')
  assert.ok(health === 503 || health === 'refused', String(health))
  assert.deepEqual(await slow, { status: 200, body: 'finished' })
  assert.equal(await exit, 0)
  assert.match(demo.output, /SIGTERM: draining/)
})

test('the gateway stopped with SIGTERM finishes a proxied request in flight and exits 0', async () => {
  const slowUp = await upstream((_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow and whole'), 1500))
  const dir = mkdtempSync(join(tmpdir(), 'dx-shutdown-'))
  writeFileSync(join(dir, 'gw.toml'), `[[services]]\nname = "svc"\nupstreams = ["${slowUp.url}"]\n`)
  const gw = await new Proc({ name: 'gateway', entry: 'gateway/src/main.ts', port: await freePort(), env: { DX_CONFIG: join(dir, 'gw.toml') } }).start()
  const inFlight = fetch(`${gw.url}/svc/slow`).then(async (r) => ({ status: r.status, body: await r.text() }))
  await sleep(300)
  const exit = exited(gw)
  const t0 = Date.now()
  gw.child!.kill('SIGTERM')
  assert.deepEqual(await inFlight, { status: 200, body: 'slow and whole' })
  assert.equal(await exit, 0)
  assert.ok(Date.now() - t0 < 8000, 'it did not wait for the whole grace period')
  await slowUp.close()
})
