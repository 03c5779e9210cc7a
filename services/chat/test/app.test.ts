import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chatService } from '../src/app.js'

function setup(taken: Array<[string, string]> = []) {
  const hub = {
    rooms: () => [{ room: 'lobby', count: 2 }],
    isTaken: (room: string, nick: string) => taken.some(([r, n]) => r === room && n.toLowerCase() === nick.toLowerCase()),
    system: async () => {},
  }
  const { app } = chatService(hub)
  const join = (body: Record<string, string>) =>
    app.request('/chat/join', {
      method: 'POST',
      body: new URLSearchParams(body).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
    })
  return { app, join }
}

test('the standalone page and the widget list the rooms with their counts', async () => {
  const { app } = setup()
  const page = await (await app.request('/')).text()
  assert.match(page, /^<!doctype html>/)
  const widget = await (await app.request('/chat')).text()
  assert.doesNotMatch(widget, /<html/)
  assert.match(widget, /data-dx-widget="chat"/)
  assert.match(widget, /#lobby<\/button>\s*<span[^>]*>\(2\)/)
})

test('joining answers the room with a ws-connect URL holding nickname, room and session', async () => {
  const { join } = setup()
  const r = await join({ nick: 'alice', room: 'dev.ops' })
  assert.equal(r.status, 200)
  assert.match(r.headers.get('set-cookie')!, /dx_chat_nick=alice/)
  // The actor of the events this browser causes anywhere: HttpOnly, Lax, whole site, a year.
  const actor = r.headers.getSetCookie().find((c) => c.startsWith('dx_actor='))!
  assert.ok(actor, 'dx_actor is set')
  const flags = actor.split(/;\s*/)
  assert.equal(flags[0], 'dx_actor=alice')
  assert.ok(flags.includes('HttpOnly'), actor)
  assert.ok(flags.includes('SameSite=Lax'), actor)
  assert.ok(flags.includes('Path=/'), actor)
  assert.ok(flags.includes(`Max-Age=${365 * 24 * 3600}`), actor)
  const html = await r.text()
  const ws = html.match(/ws-connect="([^"]+)"/)![1]!.replaceAll('&amp;', '&')
  const q = new URL(ws, 'http://x').searchParams
  assert.equal(q.get('nick'), 'alice')
  assert.equal(q.get('room'), 'dev.ops')
  assert.match(q.get('sid')!, /^[0-9a-f-]{36}$/)
  assert.match(html, /hx-ext="ws"/)
  assert.match(html, /ws-send/)
})

test('bad or taken names: 422 with the message, and what was typed kept (escaped)', async () => {
  const { join } = setup([['lobby', 'Bob']])
  const bad = await join({ nick: '<img src=x>', room: 'lobby' })
  assert.equal(bad.status, 422)
  const html = await bad.text()
  assert.match(html, /only use letters/)
  assert.match(html, /value="&lt;img src=x&gt;"/)
  assert.doesNotMatch(html, /<img/)

  assert.equal(bad.headers.get('set-cookie'), null, 'a refused join sets no cookie')

  const taken = await join({ nick: 'bob', room: 'lobby' })
  assert.equal(taken.status, 422)
  assert.match(await taken.text(), /nickname is taken here/)
  assert.equal((await join({ nick: 'bob', room: 'other' })).status, 200)
  assert.equal((await join({ nick: 'al', room: '' })).status, 422)
})

test('the remembered nickname fills the form; an invalid one is ignored', async () => {
  const { app } = setup()
  const remembered = await (await app.request('/chat', { headers: { cookie: 'dx_chat_nick=carol' } })).text()
  assert.match(remembered, /value="carol"/)
  const junk = await (await app.request('/chat', { headers: { cookie: 'dx_chat_nick=%3Cb%3E' } })).text()
  assert.doesNotMatch(junk, /&lt;b/)
})

test('the manifest lists the events chat tells the events room about', async () => {
  const { app } = setup()
  const m = (await (await app.request('/_dx/manifest')).json()) as { subscribes: string[] }
  assert.deepEqual(m.subscribes, ['todo:added', 'todo:removed', 'news:favorited'])
})

test('a bad CHAT_EVENTS_ROOM is refused at start', () => {
  const hub = { rooms: () => [], isTaken: () => false, system: async () => {} }
  assert.throws(() => chatService(hub, { eventsRoom: 'no spaces' }), /CHAT_EVENTS_ROOM "no spaces": A room name may only use letters/)
})
