// `make start-cluster` end to end: scripts/run.ts --cluster with real processes, its own
// nats-server on a free port, PostgreSQL in a schema of this run, every port chosen here.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createSchema, databaseTestUrl, needsDatabase, needsNatsServer, natsServerPath, root, runId, withSearchPath } from '@dx/testkit'
import { portProblem } from '../lib/net.js'

/** The developer's own settings must not leak in. */
const dropped = /^(PORT|HOST|GATEWAY_PORT|DATABASE_URL|[A-Z]+_(PORT|URL|STANDALONE_URL|DB|DATABASE_URL)|DX_.*|NEWS_HN_.*)$/
function cleanEnv(extra: Record<string, string>) {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !dropped.test(k)) env[k] = v
  return { ...env, ...extra }
}

function runner(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/run.ts', '--cluster'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, exited, output: () => out }
}

test('without DATABASE_URL: one line saying what to set, exit 2, nothing started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-cluster-run-'))
  try {
    const r = runner(cleanEnv({ DX_RUN_DIR: dir }))
    assert.equal(await r.exited, 2)
    assert.equal(r.output(), 'make start-cluster needs PostgreSQL: set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make start-cluster\n')
    assert.equal(existsSync(join(dir, 'run.pid')), false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** A base port with every port the cluster needs free: gateways +0/+1, services +1..+3 and +11..+13, NATS +20. */
async function freeBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000)
    const ports = [0, 1, 2, 3, 4, 12, 13, 14, 20].map((d) => base + d)
    if ((await Promise.all(ports.map((p) => portProblem(p, '127.0.0.1')))).every((p) => p === undefined)) return base
  }
  throw new Error('no free range of ports found')
}

const skip = needsNatsServer() || needsDatabase()
test('make start-cluster: its own NATS, two gateways and two replicas of each service; a todo added on one gateway is read on the other; stops clean', { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-cluster-run-'))
  const schema = runId()
  const dropSchema = await createSchema(databaseTestUrl(), schema)
  const base = await freeBase()
  const natsDir = (natsServerPath() ?? '').replace(/\/nats-server$/, '')
  const r = runner(
    cleanEnv({
      // Where this test found nats-server (/usr/sbin is not on every PATH).
      PATH: `${process.env.PATH}:${natsDir}`,
      DX_RUN_DIR: dir,
      DATABASE_URL: withSearchPath(databaseTestUrl(), schema),
      DX_BUS: `nats://127.0.0.1:${base + 20}`,
      DX_BUS_PREFIX: schema,
      GATEWAY_PORT: String(base),
      TODO_PORT: String(base + 2),
      CHAT_PORT: String(base + 3),
      NEWS_PORT: String(base + 4),
      NEWS_HN_URL: 'http://127.0.0.1:9', // never the network
    }),
  )
  let failure: unknown
  try {
    for (const until = Date.now() + 150_000; !r.output().includes('distributex is up') && r.child.exitCode === null && Date.now() < until; ) {
      await new Promise((res) => setTimeout(res, 200))
    }
    assert.match(r.output(), /distributex is up/, r.output().slice(-3000))
    assert.match(r.output(), new RegExp(`starting nats-server on 127\\.0\\.0\\.1:${base + 20}`))
    assert.match(r.output(), /nats started \(pid \d+\)/)
    for (const name of ['gateway-1', 'gateway-2', 'todo-1', 'todo-2', 'chat-1', 'chat-2', 'news-1', 'news-2']) assert.match(r.output(), new RegExp(`${name} started`))
    assert.match(r.output(), new RegExp(`main app, gateway 2 +http://localhost:${base + 1}`))

    for (const port of [base, base + 1]) {
      const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { bus?: string }
      assert.equal(h.bus, 'connected', `gateway on ${port} is on the bus`)
    }
    const added = await fetch(`http://127.0.0.1:${base + 1}/todo/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
      body: 'text=from+the+second+gateway',
    })
    assert.equal(added.status, 200, `${added.headers.get('x-dx-fallback') ?? ''} ${await added.text()}\n${r.output().slice(-3000)}`)
    // Both todo replicas read the one database, in this run's schema.
    for (const port of [base + 2, base + 12]) {
      const items = (await (await fetch(`http://127.0.0.1:${port}/todo/items`)).json()) as { text: string }[]
      assert.deepEqual(items.map((t) => t.text), ['from the second gateway'], `todo on ${port}`)
    }
  } catch (err) {
    failure = err
  }
  r.child.kill('SIGTERM')
  const code = await r.exited
  await dropSchema().catch(() => {})
  rmSync(dir, { recursive: true, force: true })
  // The first failure is the one to see, not the exit code it may have caused.
  if (failure) throw failure
  assert.equal(code, 0, r.output().slice(-3000))
  // Everything it started is gone, NATS included.
  for (const d of [0, 1, 2, 3, 4, 12, 13, 14, 20]) assert.equal(await portProblem(base + d, '127.0.0.1'), undefined, `port ${base + d} free again`)
})
