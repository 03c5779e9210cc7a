import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chatService } from '../src/app.js'

function setup(taken: Array<[string, string]> = []) {
  const hub = {
    rooms: () => [{ room: 'lobby', count: 2 }],
    isTaken: (room: string, nick: string) => taken.some(([r, n]) => r === room && n.toLowerCase() === nick.toLowerCase()),
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
