import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { sign, type Envelope } from '@dx/kit'
import { freePort, Proc, sleep } from '@dx/testkit'
import { ChatClient } from './client.js'

// The chat process as the gateway sees it: signed envelopes posted to /_dx/events become
// system messages in the events room (CHAT_EVENTS_ROOM, here the default "lobby").
const SECRET = 'chat-events-secret'
let chat: Proc
const clients: ChatClient[] = []
const open = async (room: string, nick: string) => {
  const c = await ChatClient.open(chat.url, room, nick)
  clients.push(c)
  return c
}

before(async () => {
  chat = await new Proc({
    name: 'chat',
    entry: 'services/chat/src/main.ts',
    port: await freePort(),
    env: { DX_EVENT_SECRET: SECRET, CHAT_DB: join(mkdtempSync(join(tmpdir(), 'dx-chat-events-')), 'chat.db') },
  }).start()
})
after(async () => {
  for (const c of clients) c.close()
  await chat?.stop()
})

const envelope = (name: string, detail: unknown, fields: Partial<Envelope> = {}): Envelope => ({
  id: randomUUID(),
  name,
  detail,
  source: name.split(':')[0]!,
  time: new Date().toISOString(),
  ...fields,
})

async function deliver(env: Envelope) {
  const body = JSON.stringify(env)
  const r = await fetch(`${chat.url}/_dx/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-dx-signature': sign(body, SECRET) },
    body,
  })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}

/** The system lines a client got, as text (still HTML-escaped, as sent). */
const systemLines = (c: ChatClient) =>
  c.frames.flatMap((f) => [...f.matchAll(/<p class="chat-message chat-system[^"]*" data-message-id="([^"]+)">[\s\S]*?<span class="chat-text[^"]*">([^<]*)<\/span>/g)].map((m) => ({ id: m[1]!, text: m[2]! })))

test('todo:added from the gateway: everyone in the lobby reads "ana added a todo: buy milk"', async () => {
  const bob = await open('lobby', 'bob')
  const elsewhere = await open('kitchen', 'carol')
  await bob.waitFor(/id="chat-messages"/)
  const env = envelope('todo:added', { id: 1, text: 'buy milk' }, { actor: 'ana' })
  assert.deepEqual(await deliver(env), { status: 200, json: { status: 'ok' } })
  const frame = await bob.waitFor(/ana added a todo: buy milk/)
  // A system line: no nickname, muted and italic, the envelope's id as the message id.
  assert.match(frame, new RegExp(`<p class="chat-message chat-system text-xs italic text-slate-500" data-message-id="${env.id}">`))
  assert.doesNotMatch(frame, /chat-from/)
  await sleep(200)
  assert.deepEqual(systemLines(elsewhere), [])
})

test('the same event delivered twice (at least once) is one message', async () => {
  const dave = await open('lobby', 'dave')
  await dave.waitFor(/id="chat-messages"/)
  const from = dave.frames.length
  const env = envelope('todo:removed', { id: 2, text: 'walk the dog' }, { actor: 'ana' })
  assert.deepEqual((await deliver(env)).json, { status: 'ok' })
  assert.deepEqual((await deliver(env)).json, { status: 'duplicate' })
  await dave.waitFor(/ana removed a todo: walk the dog/, 5000, from)
  await sleep(300)
  assert.equal(systemLines({ frames: dave.frames.slice(from) } as ChatClient).length, 1)
})

test('no actor: "someone"; a title with markup arrives as text; a later joiner finds it in the history', async () => {
  const erin = await open('lobby', 'erin')
  await erin.waitFor(/id="chat-messages"/)
  await deliver(envelope('todo:added', { id: 3, text: 'water the plants' }))
  await erin.waitFor(/someone added a todo: water the plants/)
  const xss = envelope('news:favorited', { id: 4, title: '<img src=x onerror=alert(1)>' }, { actor: 'ana' })
  await deliver(xss)
  const frame = await erin.waitFor(/ana favourited:/)
  assert.match(frame, /ana favourited: &lt;img src=x onerror=alert\(1\)&gt;/)
  assert.doesNotMatch(frame, /<img/)

  const late = await open('lobby', 'frank')
  const joined = await late.waitFor(/id="chat-messages" hx-swap-oob="innerHTML"/)
  assert.match(joined, /ana added a todo: buy milk/)
  assert.match(joined, /ana favourited: &lt;img src=x onerror=alert\(1\)&gt;/)
  assert.doesNotMatch(joined, /<img/)
})

test('unsigned or unsubscribed events change nothing in the room', async () => {
  const gina = await open('lobby', 'gina')
  await gina.waitFor(/id="chat-messages"/)
  const from = gina.frames.length
  const env = envelope('todo:added', { id: 5, text: 'forged' }, { actor: 'mallory' })
  const r = await fetch(`${chat.url}/_dx/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(env) })
  assert.equal(r.status, 401)
  assert.deepEqual((await deliver(envelope('todo:updated', { id: 5, text: 'x', done: true }))).json, { status: 'ignored' })
  await sleep(300)
  assert.deepEqual(systemLines({ frames: gina.frames.slice(from) } as ChatClient), [])
})
