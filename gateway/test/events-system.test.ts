// Events across real processes: todo, chat and the gateway, as make start runs them.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { sleep, startSystem, type System } from '@dx/testkit'
import { ChatClient } from '../../services/chat/test/client.js'

let sys: System
let lobby: ChatClient
before(async () => {
  sys = await startSystem({ services: ['todo', 'chat'], dataDir: mkdtempSync(join(tmpdir(), 'dx-events-')) })
  lobby = await ChatClient.open(sys.gateway.url, 'lobby', 'watcher', { reconnect: true })
})
after(async () => {
  lobby?.close()
  await sys?.stop()
})

const announced = (text: string) => lobby.frames.filter((f) => f.includes(`added a todo: ${text}`)).length
const add = (base: string, text: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/todo/items`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ text }) })

async function until(cond: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await sleep(25)
  return cond()
}

test('a todo added through the gateway is announced once, by the actor', async () => {
  const r = await add(sys.gateway.url, 'via gateway', { cookie: 'dx_actor=ana' })
  assert.equal(r.status, 200)
  assert.ok(await until(() => announced('via gateway') > 0), 'announced')
  await sleep(500)
  assert.equal(announced('via gateway'), 1, 'the service did not publish it a second time')
  assert.ok(lobby.frames.some((f) => f.includes('ana added a todo: via gateway')))
})

test('a todo added on the standalone port is published by the service, once', async () => {
  const r = await add(sys.services.todo!.url, 'on its own page')
  assert.equal(r.status, 200)
  assert.ok(await until(() => announced('on its own page') > 0), 'announced')
  await sleep(500)
  assert.equal(announced('on its own page'), 1)
  assert.ok(lobby.frames.some((f) => f.includes('someone added a todo: on its own page')))
})

test('chat down for 3 s: the event waits for it and arrives once it is back', async () => {
  await sys.services.chat!.stop()
  const r = await add(sys.gateway.url, 'while chat was down')
  assert.equal(r.status, 200, 'todo itself is not held up by chat')
  await sleep(3000)
  await sys.services.chat!.start()
  // The watcher reconnects on its own and sees it live or in the room's history.
  assert.ok(await until(() => announced('while chat was down') > 0, 15_000), 'delivered after the restart')
})
