import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { natsFacts, onPath } from '../lib/cluster-facts.js'
import { busTarget, planCluster, type ClusterOptions } from '../lib/cluster-plan.js'
import { PlanError, type Plan } from '../lib/plan.js'

const DB = 'postgres://postgres@127.0.0.1:5432/test'
const canStart: ClusterOptions = { nats: { natsServer: '/usr/sbin/nats-server', portFree: true }, runDir: '/tmp/run' }
const part = (plan: Plan, name: string) => {
  const p = plan.parts.find((x) => x.name === name)
  assert.ok(p, `no part ${name}`)
  return p
}

test('defaults: NATS, two gateways on 4040 and 4041, two replicas of each service ten ports apart', () => {
  const plan = planCluster({ DATABASE_URL: DB, PATH: '/bin' }, canStart)
  assert.deepEqual(
    plan.parts.map((p) => [p.name, p.port]),
    [
      ['nats', 4222],
      ['todo-1', 4001],
      ['todo-2', 4011],
      ['chat-1', 4002],
      ['chat-2', 4012],
      ['news-1', 4003],
      ['news-2', 4013],
      ['gateway-1', 4040],
      ['gateway-2', 4041],
    ],
  )
  const nats = part(plan, 'nats')
  assert.equal(nats.cmd, '/usr/sbin/nats-server')
  assert.deepEqual(nats.args, ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/tmp/run/nats'])
  assert.equal(nats.health, undefined)
  for (const p of plan.parts.filter((x) => x.name !== 'nats')) {
    assert.equal(p.env.DX_BUS, 'nats://127.0.0.1:4222', `${p.name} on the bus`)
    assert.equal(p.env.PORT, String(p.port))
    assert.equal(p.health, `http://127.0.0.1:${p.port}/healthz`)
    // The banner waits for each gateway to see the services up, and only gateways have that view.
    assert.equal(p.status, p.name.startsWith('gateway') ? `http://127.0.0.1:${p.port}/_dx/status.json` : undefined)
    assert.equal(p.env.PATH, '/bin', 'the rest of the environment is passed through')
  }
  assert.match(plan.notes[0], /starting nats-server on 127\.0\.0\.1:4222/)
})

test('services get their own database variable from DATABASE_URL; gateways get every replica', () => {
  const plan = planCluster({ DATABASE_URL: DB }, canStart)
  for (const [name, v] of [['todo', 'TODO_DATABASE_URL'], ['chat', 'CHAT_DATABASE_URL'], ['news', 'NEWS_DATABASE_URL']]) {
    for (const n of [1, 2]) {
      const p = part(plan, `${name}-${n}`)
      assert.equal(p.env[v], DB)
      assert.equal(p.env.DX_GATEWAY_URL, 'http://localhost:4040')
      assert.equal(p.env.DX_ALLOWED_ORIGINS, 'http://localhost:4041', 'pages of the second gateway may write')
    }
  }
  for (const g of ['gateway-1', 'gateway-2']) {
    const gw = part(plan, g)
    assert.equal(gw.env.TODO_URL, 'http://127.0.0.1:4001,http://127.0.0.1:4011')
    assert.equal(gw.env.CHAT_URL, 'http://127.0.0.1:4002,http://127.0.0.1:4012')
    assert.equal(gw.env.NEWS_URL, 'http://127.0.0.1:4003,http://127.0.0.1:4013')
    assert.equal(gw.env.CHAT_STANDALONE_URL, 'http://localhost:4002')
    assert.equal(gw.env.TODO_DATABASE_URL, undefined, 'gateways hold no data')
    assert.equal(gw.args.at(-1), 'gateway/dist/main.mjs', 'the gateways run from the bundle, as make start does')
  }
  // A service's own variable wins over DATABASE_URL.
  const own = planCluster({ DATABASE_URL: DB, NEWS_DATABASE_URL: 'postgres://x@db/news' }, canStart)
  assert.equal(part(own, 'news-2').env.NEWS_DATABASE_URL, 'postgres://x@db/news')
  assert.equal(part(own, 'todo-2').env.TODO_DATABASE_URL, DB)
})

test('the banner lists both gateways, each service\'s replicas and the status page', () => {
  const plan = planCluster({ DATABASE_URL: DB }, canStart)
  assert.deepEqual(plan.urls, [
    { label: 'main app, gateway 1', url: 'http://localhost:4040' },
    { label: 'main app, gateway 2', url: 'http://localhost:4041' },
    { label: 'todo replicas', url: 'http://localhost:4001  http://localhost:4011' },
    { label: 'chat replicas', url: 'http://localhost:4002  http://localhost:4012' },
    { label: 'news replicas', url: 'http://localhost:4003  http://localhost:4013' },
    { label: 'status', url: 'http://localhost:4040/_dx/status' },
  ])
})

test('without DATABASE_URL: one line saying what to set', () => {
  assert.throws(() => planCluster({}, canStart), (e: Error) => e instanceof PlanError && /set DATABASE_URL, e\.g\. DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:5432\/test make start-cluster/.test(e.message) && !e.message.includes('\n'))
  assert.throws(() => planCluster({ DATABASE_URL: 'mysql://x' }, canStart), /must be a postgres:\/\/ URL/)
})

test('NATS already listening, nats-server missing, or a NATS elsewhere: no NATS part, and a note or an error', () => {
  const busy = planCluster({ DATABASE_URL: DB }, { nats: { natsServer: '/usr/sbin/nats-server', portFree: false } })
  assert.equal(busy.parts.some((p) => p.name === 'nats'), false)
  assert.deepEqual(busy.notes, ['something listens on port 4222 already: using NATS at nats://127.0.0.1:4222'])

  const usable = planCluster({ DATABASE_URL: DB }, { nats: { portFree: false } })
  assert.equal(usable.parts.some((p) => p.name === 'nats'), false, 'nats-server missing is fine when a NATS runs')

  assert.throws(() => planCluster({ DATABASE_URL: DB }, { nats: { portFree: true } }), /nothing listens on port 4222 and nats-server is not on PATH/)

  const remote = planCluster({ DATABASE_URL: DB, DX_BUS: 'nats://bus.internal:4333' }, { nats: { portFree: true, natsServer: '/x' } })
  assert.equal(remote.parts.some((p) => p.name === 'nats'), false)
  assert.deepEqual(remote.notes, ['using NATS at nats://bus.internal:4333'])
  assert.equal(part(remote, 'chat-2').env.DX_BUS, 'nats://bus.internal:4333')

  const local = planCluster({ DATABASE_URL: DB, DX_BUS: 'nats://localhost:4999' }, canStart)
  assert.deepEqual(part(local, 'nats').args.slice(0, 4), ['-a', '127.0.0.1', '-p', '4999'])
})

test('DX_BUS must be NATS', () => {
  assert.throws(() => busTarget({ DX_BUS: 'memory' }), /a cluster needs a NATS bus/)
  assert.throws(() => busTarget({ DX_BUS: 'nats://a b:1' }), /is not a URL/)
  assert.deepEqual(busTarget({}), { url: 'nats://127.0.0.1:4222', port: 4222, local: true })
  assert.deepEqual(busTarget({ DX_BUS: 'nats://127.0.0.1' }), { url: 'nats://127.0.0.1', port: 4222, local: true })
  assert.equal(busTarget({ DX_BUS: 'nats://a:4222,nats://b:4222' }).local, false)
})

test('port variables move both replicas, and clashes are one line', () => {
  const plan = planCluster({ DATABASE_URL: DB, GATEWAY_PORT: '5040', TODO_PORT: '5001' }, canStart)
  assert.equal(part(plan, 'gateway-2').env.PORT, '5041')
  assert.equal(part(plan, 'todo-2').env.PORT, '5011')
  assert.equal(part(plan, 'gateway-1').env.TODO_URL, 'http://127.0.0.1:5001,http://127.0.0.1:5011')
  assert.equal(part(plan, 'todo-1').env.DX_GATEWAY_URL, 'http://localhost:5040')
  for (const p of plan.parts) assert.equal(p.env.GATEWAY_PORT, undefined, `${p.name} got GATEWAY_PORT`)
  // make watch's reload stream is no part of a cluster: a DX_DEV left in the shell stays there.
  for (const p of planCluster({ DATABASE_URL: DB, DX_DEV: '1', DX_DEV_URL: 'http://x' }, canStart).parts) assert.equal(p.env.DX_DEV, undefined)
  assert.equal(part(planCluster({ DATABASE_URL: DB, PORT: '6000' }, canStart), 'gateway-2').port, 6001)
  // chat-2 would land on the second gateway's port.
  assert.throws(() => planCluster({ DATABASE_URL: DB, CHAT_PORT: '4031' }, canStart), /chat-2 \(from CHAT_PORT\) and gateway-2|gateway-2 .* and chat-2/)
  assert.throws(() => planCluster({ DATABASE_URL: DB, TODO_PORT: '4222' }, canStart), /both want port 4222/)
  assert.throws(() => planCluster({ DATABASE_URL: DB, NEWS_PORT: '65530' }, canStart), /NEWS_PORT leaves news-2 no port/)
})

test('natsFacts: nats-server found on PATH, and whether the port is taken', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-path-'))
  writeFileSync(join(dir, 'nats-server'), '#!/bin/sh\n')
  chmodSync(join(dir, 'nats-server'), 0o755)
  assert.equal(onPath('nats-server', `/nonexistent:${dir}`), join(dir, 'nats-server'))
  assert.equal(onPath('nats-server', '/nonexistent'), undefined)

  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const port = (server.address() as { port: number }).port
  try {
    assert.deepEqual(await natsFacts({ DX_BUS: `nats://127.0.0.1:${port}`, PATH: dir }), { natsServer: join(dir, 'nats-server'), portFree: false })
  } finally {
    server.close()
  }
  assert.equal((await natsFacts({ DX_BUS: 'nats://elsewhere:4222', PATH: dir })).portFree, false, 'never probed for a remote bus')
})
