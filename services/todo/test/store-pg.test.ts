import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { createTestSchema, freePort, pgExec, pgRelay, pgSkip, Proc, sleep, withSearchPath } from '@dx/testkit'
import pg from 'pg'
import { todoService } from '../src/app.js'
import { openStore, type Store } from '../src/store.js'

// What only PostgreSQL has: migrations at start, and a server that refuses or goes away.
// The contract shared with SQLite is in store-contract.test.ts.

const quiet = { info() {}, warn() {}, error() {} }

async function schema(t: TestContext) {
  const s = await createTestSchema()
  const stores: Store[] = []
  const open = async (url = s.url, startMs?: number) => {
    const store = await openStore({ databaseUrl: url, schema: s.schema, file: '(unused)', log: quiet, startMs })
    stores.push(store)
    return store
  }
  t.after(async () => {
    await Promise.allSettled(stores.map((x) => x.close()))
    await s.drop()
  })
  return { ...s, open, sql: (text: string) => pgExec(text, [], s.schema) }
}

function client(app: ReturnType<typeof todoService>['app']) {
  return (method: string, path: string, body?: Record<string, string>) =>
    app.request(path, { method, body: body && new URLSearchParams(body), headers: { 'hx-request': 'true' } })
}
const addedId = (r: Response) => (JSON.parse(r.headers.get('hx-trigger')!) as { 'todo:added': { id: number } })['todo:added'].id

describe('todo store on PostgreSQL only', { skip: pgSkip(), timeout: 60_000 }, () => {
  test('replicas that start together create the tables once; a restart runs nothing again', async (t) => {
    const s = await schema(t)
    const stores = await Promise.all([s.open(), s.open(), s.open(), s.open()])
    await stores[0]!.add('one')
    await s.open()
    const { rows } = await s.sql('select owner, version from dx_migrations')
    assert.deepEqual(rows, [{ owner: 'todo', version: 1 }])
    assert.equal((await stores[3]!.list()).length, 1)
  })

  test('a COMMIT the server refuses answers 503 with no event and stores nothing; the next write gets a new id', async (t) => {
    const s = await schema(t)
    const store = await s.open()
    const send = client(todoService(store).app)
    const kept = await send('POST', '/todo/items', { text: 'kept' })
    assert.equal(kept.status, 200)
    const id = addedId(kept)

    // Checked at COMMIT, after the statement itself succeeded and returned its row.
    await s.sql(`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$;
      create constraint trigger refuse after insert or update or delete on todos deferrable initially deferred for each row execute function refuse()`)
    const writes = [
      ['POST', '/todo/items', { text: 'lost' }, /^The todo could not be saved; nothing was added/],
      ['PATCH', `/todo/items/${id}`, { done: 'true' }, /^The todo could not be updated; nothing was changed/],
      ['DELETE', `/todo/items/${id}`, undefined, /^The todo could not be removed; it is still there/],
    ] as const
    for (const [method, path, body, message] of writes) {
      const r = await send(method, path, body)
      assert.equal(r.status, 503, `${method} ${path}`)
      assert.equal(r.headers.get('hx-trigger'), null, `${method} ${path}`)
      assert.match(await r.text(), message)
    }
    await s.sql('drop trigger refuse on todos')

    const other = await s.open()
    assert.deepEqual((await other.list()).map((x) => [x.id, x.text, x.done]), [[id, 'kept', false]])
    const next = await send('POST', '/todo/items', { text: 'after' })
    assert.equal(next.status, 200)
    assert.ok(addedId(next) > id + 1, 'the refused insert used up its id')
  })

  /** A store whose COMMITs of new todos wait on a lock the test holds; `waiting()` finds the backend that waits. */
  async function stalledCommits(t: TestContext, s: Awaited<ReturnType<typeof schema>>) {
    const key = randomInt(1, 2 ** 31 - 1)
    const holder = new pg.Client({ connectionString: s.url, connectionTimeoutMillis: 5000 })
    await holder.connect()
    t.after(() => holder.end())
    await holder.query('select pg_advisory_lock($1)', [key])
    await s.sql(`create function stall() returns trigger language plpgsql as $$ begin perform pg_advisory_xact_lock(${key}); return null; end $$;
      create constraint trigger stall after insert on todos deferrable initially deferred for each row execute function stall()`)
    return {
      holder,
      async waiting() {
        for (let i = 0; i < 200; i++) {
          const { rows } = await holder.query<{ pid: number }>(`select pid from pg_locks where locktype = 'advisory' and objid = $1 and not granted`, [key])
          if (rows[0]) return rows[0].pid
          await new Promise((r) => setTimeout(r, 20))
        }
        assert.fail('no COMMIT waits on the lock')
      },
      release: () => holder.query('select pg_advisory_unlock($1)', [key]),
    }
  }

  test('the server ends the session during COMMIT: it says so, the answer is 503 with no event, and nothing is stored', async (t) => {
    const s = await schema(t)
    await s.open()
    const stall = await stalledCommits(t, s)
    const send = client(todoService(await s.open()).app)
    const pending = send('POST', '/todo/items', { text: 'refused' })
    await stall.holder.query('select pg_terminate_backend($1)', [await stall.waiting()])
    const r = await pending
    assert.equal(r.status, 503)
    assert.equal(r.headers.get('hx-trigger'), null)
    assert.match(await r.text(), /^The todo could not be saved; nothing was added/)
    await stall.release()
    assert.deepEqual((await s.sql('select text from todos')).rows, [])
    // The ended connection is not handed out again.
    for (let i = 0; i < 3; i++) assert.equal((await send('POST', '/todo/items', { text: `next ${i}` })).status, 200)
    assert.equal((await s.sql('select text from todos')).rows.length, 3)
  })

  test('the connection lost during COMMIT: 503 that says it may or may not be saved, no event (and it was saved)', async (t) => {
    const s = await schema(t)
    await s.open()
    const stall = await stalledCommits(t, s)
    const relay = await pgRelay()
    const send = client(todoService(await s.open(relay.url)).app)
    const pending = send('POST', '/todo/items', { text: 'in doubt' })
    const pid = await stall.waiting()
    await relay.cut()
    const r = await pending
    assert.equal(r.status, 503)
    assert.equal(r.headers.get('hx-trigger'), null)
    assert.match(await r.text(), /may or may not have been saved/)
    // The server, which never heard the client leave, finishes the commit once the lock is free:
    // why the answer could not say "nothing was added".
    await stall.release()
    for (let i = 0; i < 200; i++) {
      const { rows } = await stall.holder.query('select 1 from pg_stat_activity where pid = $1', [pid])
      if (rows.length === 0) break
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.deepEqual((await s.sql('select text from todos')).rows, [{ text: 'in doubt' }])
  })

  test('the server gone: writes answer 503 with no event, the process lives on, and work resumes when it is back', async (t) => {
    const s = await schema(t)
    await s.open() // the tables, through the real address
    let relay = await pgRelay()
    let store = await s.open(relay.url)
    let send = client(todoService(store).app)
    assert.equal((await send('POST', '/todo/items', { text: 'before' })).status, 200)

    // Idle pooled connections die here: an unheard pool 'error' would end this process.
    await relay.cut()
    await new Promise((r) => setTimeout(r, 50))
    const r = await send('POST', '/todo/items', { text: 'while down' })
    assert.equal(r.status, 503)
    assert.equal(r.headers.get('hx-trigger'), null)
    assert.match(await r.text(), /^The todo could not be saved; nothing was added/)
    assert.equal((await send('GET', '/todo')).status, 500)
    await assert.rejects(s.open(relay.url, 300), /ECONNREFUSED/, 'a store cannot open without its server')

    relay = await pgRelay()
    t.after(() => relay.cut())
    store = await s.open(relay.url)
    send = client(todoService(store).app)
    assert.equal((await send('POST', '/todo/items', { text: 'after' })).status, 200)
    assert.deepEqual((await store.list()).map((x) => x.text), ['before', 'after'])
  })

  test('a store waits at start for a server that comes up late', async (t) => {
    const s = await schema(t)
    const port = await freePort()
    const url = new URL(s.url)
    url.hostname = '127.0.0.1'
    url.port = String(port)
    const opening = s.open(url.toString(), 10_000)
    await sleep(700)
    const relay = await pgRelay(port)
    t.after(() => relay.cut())
    const store = await opening
    assert.equal((await store.add('late')).text, 'late')
  })

  test('two todo processes on TODO_DATABASE_URL: a todo added on A is listed by B at once', async (t) => {
    const s = await schema(t)
    // No SQLite file is shared: were the URL ignored, each would have its own.
    const start = async (name: string) =>
      new Proc({ name, entry: 'services/todo/src/main.ts', port: await freePort(), env: { TODO_DATABASE_URL: withSearchPath(s.url, s.schema), TODO_DB: join(mkdtempSync(join(tmpdir(), `dx-${name}-`)), 'todo.db') } }).start()
    const [a, b] = await Promise.all([start('todo-a'), start('todo-b')])
    t.after(() => Promise.all([a.stop(), b.stop()]))
    const r = await fetch(`${a.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'from process A' }), headers: { 'hx-request': 'true' } })
    assert.equal(r.status, 200)
    assert.ok(r.headers.get('hx-trigger')?.includes('todo:added'))
    const items = (await (await fetch(`${b.url}/todo/items`)).json()) as { text: string }[]
    assert.deepEqual(items.map((x) => x.text), ['from process A'])
  })
})
