import assert from 'node:assert/strict'
import { afterEach, test } from 'node:test'
import { natsServerPath } from '../src/nats-server.js'
import { databaseTestUrl, natsTestUrl, needsDatabase, needsNats, needsNatsAndDatabase, needsNatsServer, runId } from '../src/needs.js'

const saved = { ...process.env }
afterEach(() => {
  for (const k of ['DX_TEST_NATS_URL', 'DX_TEST_DATABASE_URL', 'DX_REQUIRE_SERVICES']) {
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
  }
})

test('unset: a reason to skip that names the variable; set: no reason, and the URL', () => {
  delete process.env.DX_REQUIRE_SERVICES
  delete process.env.DX_TEST_NATS_URL
  process.env.DX_TEST_DATABASE_URL = ' postgres://x@h/db '
  assert.match(String(needsNats()), /^DX_TEST_NATS_URL is not set \(e\.g\. nats:\/\/127\.0\.0\.1:4222\): tests that need NATS are skipped$/)
  assert.equal(needsDatabase(), false)
  assert.equal(databaseTestUrl(), 'postgres://x@h/db')
  assert.match(String(needsNatsAndDatabase()), /DX_TEST_NATS_URL/)
  assert.throws(() => natsTestUrl(), /DX_TEST_NATS_URL is not set/)
  process.env.DX_TEST_NATS_URL = 'nats://127.0.0.1:1'
  assert.equal(needsNatsAndDatabase(), false)
})

test('DX_REQUIRE_SERVICES=1: a missing variable fails instead of skipping', () => {
  process.env.DX_REQUIRE_SERVICES = '1'
  delete process.env.DX_TEST_DATABASE_URL
  process.env.DX_TEST_NATS_URL = 'nats://127.0.0.1:1'
  assert.equal(needsNats(), false)
  assert.throws(() => needsDatabase(), /DX_TEST_DATABASE_URL is not set, and DX_REQUIRE_SERVICES=1 says tests that need PostgreSQL must run/)
  assert.throws(() => needsNatsAndDatabase(), /DX_REQUIRE_SERVICES=1/)
  process.env.DX_REQUIRE_SERVICES = '0'
  assert.match(String(needsDatabase()), /skipped/)
})

test('runId: one subject token and a schema name, different every time', () => {
  const a = runId()
  assert.match(a, /^dxt_[a-z0-9]+_[0-9a-f]{8}$/)
  assert.notEqual(runId(), a)
  assert.match(runId('dx_cluster'), /^dx_cluster_/)
})

test('needsNatsServer: the URL and a binary; a binary missing fails under DX_REQUIRE_SERVICES=1', () => {
  const savedBin = process.env.DX_TEST_NATS_SERVER
  try {
    process.env.DX_TEST_NATS_URL = 'nats://127.0.0.1:1'
    delete process.env.DX_REQUIRE_SERVICES
    process.env.DX_TEST_NATS_SERVER = '/bin/true'
    assert.equal(needsNatsServer(), false)
    process.env.DX_TEST_NATS_SERVER = '/nonexistent/nats-server'
    assert.equal(natsServerPath(), undefined, 'a wrong path set is missing, not another binary')
    assert.match(String(needsNatsServer()), /no nats-server binary/)
    process.env.DX_REQUIRE_SERVICES = '1'
    assert.throws(() => needsNatsServer(), /DX_REQUIRE_SERVICES=1/)
  } finally {
    if (savedBin === undefined) delete process.env.DX_TEST_NATS_SERVER
    else process.env.DX_TEST_NATS_SERVER = savedBin
  }
})
