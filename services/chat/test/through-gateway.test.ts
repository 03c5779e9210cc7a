import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { sleep, startSystem, type System } from '@dx/testkit'
import { ChatClient } from './client.js'

let sys: System
let gw: string
const clients: ChatClient[] = []
const open = async (room: string, nick: string, opts: Parameters<typeof ChatClient.open>[3] = {}) => {
  const c = await ChatClient.open(gw, room, nick, opts)
  clients.push(c)
  return c
}

before(async () => {
  sys = await startSystem({
    services: ['chat'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-chat-')),
    serviceEnv: { chat: { CHAT_PING_MS: '300' } },
  })
  gw = sys.gateway.url
})
after(async () => {
  for (const c of clients) c.close()
  await sys?.stop()
})

test('two clients in a room talk through the gateway; a third in another room hears nothing', async () => {
  const alice = await open('r1', 'alice')
  const bob = await open('r1', 'bob')
  const carol = await open('r2', 'carol')
  await alice.waitFor(/bob joined/)
  alice.send('hello <b>bob</b>')
  await bob.waitFor(/hello &lt;b&gt;bob&lt;\/b&gt;/)
  bob.send('hi alice')
  await alice.waitFor(/hi alice/)
  assert.deepEqual(alice.texts(), ['hello &lt;b&gt;bob&lt;/b&gt;', 'hi alice'])
  await alice.waitFor((f) => f.includes('id="chat-members"') && f.includes('>alice<') && f.includes('>bob<'))
  await sleep(200)
  assert.deepEqual(carol.texts(), [])
  assert.ok(!carol.frames.some((f) => f.includes('bob')))
})

test('a nickname taken in the room is refused, at join and on the socket', async () => {
  const first = await open('r3', 'dave')
  const join = await fetch(`${gw}/chat/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
    body: 'nick=DAVE&room=r3',
  })
  assert.equal(join.status, 422)
  assert.match(await join.text(), /nickname is taken here/)

  const second = await open('r3', 'dave')
  await second.waitFor(/nickname is taken here/)
  assert.deepEqual(await second.waitClose(), { code: 1008, reason: 'nickname taken' })
  first.send('still here')
  await first.waitFor(/still here/)
})

test('oversize and malformed frames close that socket with 1008; the others go on', async () => {
  const ok = await open('r4', 'erin')
  for (const [nick, frame] of [
    ['big', JSON.stringify({ text: 'x'.repeat(17 * 1024) })],
    ['junk', 'this is not json'],
    ['shape', JSON.stringify({ message: 'no text field' })],
  ] as const) {
    const bad = await open('r4', nick)
    bad.ws.send(frame)
    const closed = await bad.waitClose()
    assert.equal(closed.code, 1008, nick)
  }
  assert.match(sys.services.chat!.output, /closing big's socket in #r4 with 1008: frame of \d+ bytes/)
  ok.send('after the bad ones')
  await ok.waitFor(/after the bad ones/)
  assert.equal((await fetch(`${gw}/chat/rooms`)).status, 200)
})

test('a too long message and a message flood get a notice, and the refused text comes back', async () => {
  const fay = await open('r5', 'fay')
  const gus = await open('r5', 'gus')
  fay.send('y'.repeat(1001))
  const refused = await fay.waitFor(/Message too long/)
  assert.match(refused, /id="chat-form" ws-send[\s\S]*value="y{1001}"/)

  for (let i = 1; i <= 25; i++) fay.send(`flood ${i}`)
  await fay.waitFor(/Slow down: at most 20 messages in 10 seconds/)
  await gus.waitFor(/flood 20</)
  await sleep(300)
  assert.equal(gus.texts().filter((t) => t.startsWith('flood')).length, 20)
})

test('a newcomer gets the room history', async () => {
  const hal = await open('r6', 'hal')
  for (const t of ['one', 'two', 'three']) hal.send(t)
  await hal.waitFor(/three/)
  const ida = await open('r6', 'ida')
  const joined = await ida.waitFor(/hx-swap-oob="innerHTML"/)
  assert.deepEqual([...joined.matchAll(/chat-text[^"]*">([^<]*)/g)].map((m) => m[1]), ['one', 'two', 'three'])
})

test('a connection that stops answering pings leaves the room', async () => {
  const jon = await open('r7', 'jon')
  const ghost = await open('r7', 'ghost')
  await jon.waitFor(/ghost joined/)
  // A paused socket reads nothing, so it never answers the server's pings.
  ;(ghost.ws as unknown as { _socket: { pause(): void } })._socket.pause()
  await jon.waitFor(/ghost left/, 5000)
})

test('when chat restarts, clients reconnect under the same nickname and keep talking', async () => {
  const kim = await open('r8', 'kim', { reconnect: true })
  const lou = await open('r8', 'lou', { reconnect: true })
  await kim.waitFor(/lou joined/)
  const [kimSeen, louSeen] = [kim.frames.length, lou.frames.length]
  await sys.services.chat!.stop()
  assert.equal(kim.closes[0]?.code, 1012)
  await sys.services.chat!.start()
  await kim.waitFor(/hx-swap-oob="innerHTML"/, 10_000, kimSeen)
  await lou.waitFor(/hx-swap-oob="innerHTML"/, 10_000, louSeen)
  const seen = kim.frames.length
  lou.send('back again')
  const got = await kim.waitFor(/back again/, 5000, seen)
  assert.match(got, /<strong class="chat-from">lou<\/strong>/)
})
