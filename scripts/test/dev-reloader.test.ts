// make watch: from changed files to restarts to one reload event, with fake processes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Reloader, waitUntil, type ReloadEvent, type ReloadPart } from '../lib/dev-reloader.js'

/** A part whose restart and health the test controls: `up(name)` makes it healthy. */
function fakes() {
  const restarts: string[] = []
  const healthy = new Map<string, (ok: boolean) => void>()
  const part = (name: string, port: number | undefined, entry?: string): ReloadPart => ({
    name,
    port,
    entry,
    restart: async () => {
      restarts.push(name)
    },
    healthy: (signal) =>
      new Promise((resolve) => {
        healthy.set(name, resolve)
        signal.addEventListener('abort', () => resolve(false))
      }),
  })
  const parts = [
    part('todo', 4001, 'services/todo/src/main.ts'),
    part('chat', 4002, 'services/chat/src/main.ts'),
    part('gateway', 4040, 'gateway/src/main.ts'),
    { name: 'css' },
  ]
  const events: ReloadEvent[] = []
  const logs: string[] = []
  const r = new Reloader({ parts, mainPort: 4040, emit: (e) => events.push(e), log: (l) => logs.push(l) })
  const up = async (name: string, ok = true) => {
    for (const end = Date.now() + 2000; !healthy.has(name); await sleep(5)) if (Date.now() > end) throw new Error(`${name} was not waited for`)
    healthy.get(name)!(ok)
    healthy.delete(name)
    await sleep(5)
  }
  return { r, restarts, events, logs, up }
}

test('a service file restarts that service only; the reload comes once it is healthy, for its pages and the main app', async () => {
  const f = fakes()
  f.r.changed(['services/todo/src/views.ts'])
  await sleep(20)
  assert.deepEqual(f.restarts, ['todo'])
  assert.deepEqual(f.events, [], 'nothing before the restarted part is healthy')
  await f.up('todo')
  assert.deepEqual(f.events, [{ parts: ['todo'], ports: [4040, 4001] }])
  assert.match(f.logs[0], /^changed: services\/todo\/src\/views\.ts; restarting todo$/)
})

test('a shared file: every TypeScript part restarts, and one reload follows the last of them', async () => {
  const f = fakes()
  f.r.changed(['packages/ui/src/layout.ts'])
  await sleep(20)
  assert.deepEqual(f.restarts, ['todo', 'chat', 'gateway'])
  await f.up('chat')
  await f.up('gateway')
  assert.deepEqual(f.events, [])
  await f.up('todo')
  assert.deepEqual(f.events, [{ parts: ['todo', 'chat', 'gateway'], ports: [4040, 4001, 4002] }])
})

test('a part that does not come up gets no reload, and holds none back once given up', async () => {
  const f = fakes()
  f.r.changed(['services/chat/src/app.ts', 'gateway/src/server.ts'])
  await sleep(20)
  await f.up('gateway')
  await f.up('chat', false)
  assert.deepEqual(f.events, [{ parts: ['gateway'], ports: [4040] }])
  assert.match(f.logs.at(-1)!, /^chat is not healthy after the change/)
})

test('a newer change to a part being restarted supersedes the older one: one reload, after the newer restart', async () => {
  const f = fakes()
  f.r.changed(['services/todo/src/a.ts'])
  await sleep(20)
  f.r.changed(['services/todo/src/a.ts'])
  await sleep(20)
  assert.deepEqual(f.restarts, ['todo', 'todo'])
  assert.equal(f.r.busy, true)
  await f.up('todo')
  assert.deepEqual(f.events, [{ parts: ['todo'], ports: [4040, 4001] }])
  assert.equal(f.logs.filter((l) => /not healthy/.test(l)).length, 0, 'the abandoned wait is not a failure')
})

test('a client script change reloads every page without restarting anything; other files do nothing', async () => {
  const f = fakes()
  f.r.changed(['packages/ui/src/client/dx.js'])
  assert.deepEqual(f.restarts, [])
  assert.deepEqual(f.events, [{ parts: [], ports: [4040, 4001, 4002] }])
  f.r.changed(['README.md', 'services/todo/test/x.test.ts'])
  assert.equal(f.events.length, 1)
})

test('after close(), waits are abandoned and nothing more is emitted', async () => {
  const f = fakes()
  f.r.changed(['services/todo/src/a.ts'])
  await sleep(20)
  f.r.close()
  await sleep(20)
  f.r.changed(['services/chat/src/a.ts'])
  await sleep(20)
  assert.deepEqual(f.restarts, ['todo'])
  assert.deepEqual(f.events, [])
})

test('waitUntil: true once the check passes, false on timeout or abort', async () => {
  let n = 0
  assert.equal(await waitUntil(async () => ++n >= 3, new AbortController().signal, 2000, 1), true)
  assert.equal(await waitUntil(async () => false, new AbortController().signal, 30, 5), false)
  const ctl = new AbortController()
  setTimeout(() => ctl.abort(), 20)
  assert.equal(await waitUntil(async () => false, ctl.signal, 5000, 5), false)
})
