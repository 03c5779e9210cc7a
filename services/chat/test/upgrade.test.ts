import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { freePort, Proc } from '@dx/testkit'
import WebSocket from 'ws'

let chat: Proc
let host: string
before(async () => {
  const port = await freePort()
  host = `127.0.0.1:${port}`
  chat = await new Proc({
    name: 'chat',
    entry: 'services/chat/src/main.ts',
    port,
    env: { CHAT_DB: join(mkdtempSync(join(tmpdir(), 'dx-chat-upgrade-')), 'chat.db'), DX_GATEWAY_URL: 'http://localhost:4040' },
  }).start()
})
after(() => chat?.stop())

/** A raw handshake; resolves with the status line of the answer. */
function handshake(target: string, extra = ''): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(chat.opts.port, '127.0.0.1', () =>
      s.write(
        `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
          `sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n${extra}\r\n`,
      ),
    )
    let got = ''
    s.on('data', (d) => {
      got += d
      if (got.includes('\r\n')) s.destroy()
    })
    s.on('error', (e) => resolve(`error: ${e.message}`))
    s.on('close', () => resolve(got.split('\r\n')[0] || 'closed without an answer'))
  })
}

/** Opens a socket with this Origin (none when undefined); resolves with the status when refused. */
function open(origin?: string): Promise<'open' | number> {
  const q = new URLSearchParams({ room: 'origins', nick: `n${Math.random().toString(36).slice(2, 8)}`, sid: 'session-1234' })
  const ws = new WebSocket(`ws://${host}/chat/ws?${q}`, origin ? { origin } : {})
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.close()
      resolve('open')
    })
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => {})
  })
}

async function stillServing() {
  assert.equal(chat.child!.exitCode, null, `chat exited:\n${chat.output}`)
  assert.equal((await fetch(`${chat.url}/healthz`)).status, 200)
  assert.equal(await open(), 'open')
}

test('upgrade targets that do not parse as URLs are answered, and the chat stays up', async () => {
  assert.equal(await handshake('//a:99999/chat/ws'), 'HTTP/1.1 404 Not Found')
  assert.equal(await handshake('//a:99999/chat/ws?room=%zz&nick=%'), 'HTTP/1.1 404 Not Found')
  assert.equal(await handshake('http://x:99999/chat/ws'), 'HTTP/1.1 404 Not Found')
  await stillServing()
})

test('a query that does not decode is a refused join, not a crash', async () => {
  const ws = new WebSocket(`ws://${host}/chat/ws?room=%zz&nick=%E0%A4%A&sid=%`)
  const closed = await new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, String(reason)])))
  assert.deepEqual(closed, [1008, 'bad nickname, room or session'])
  await stillServing()
})

test('a socket from a foreign Origin is refused with 403 and a log line; this site, the gateway and programs are let in', async () => {
  assert.equal(await open('https://evil.example'), 403)
  assert.equal(await open('null'), 403)
  assert.match(chat.output, /"level":"warn".*"name":"chat".*"msg":"refused a WebSocket from origin https:\/\/evil\.example/)
  assert.equal(await open(`http://${host}`), 'open')
  assert.equal(await open('http://localhost:4040'), 'open')
  assert.equal(await open(), 'open')
})
