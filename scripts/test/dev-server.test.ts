// The runner's reload stream, over real HTTP.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { allowedOrigin, frame, startDevServer } from '../lib/dev-server.js'

/** Opens the stream and collects what arrives; `next(n)` waits (bounded) for n messages. */
function open(port: number, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: () => string; until: (re: RegExp) => Promise<void>; close: () => void }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        text: () => text,
        until: async (re) => {
          for (const end = Date.now() + 5000; !re.test(text); await new Promise((r) => setTimeout(r, 10))) {
            if (Date.now() > end) throw new Error(`no ${re} in ${JSON.stringify(text)}`)
          }
        },
        close: () => req.destroy(),
      })
    })
    req.on('error', reject)
    req.end()
  })
}

test('allowedOrigin: pages on loopback or on the runner\'s host name, any port; nothing else', () => {
  assert.equal(allowedOrigin('http://localhost:4040', '127.0.0.1:4090'), 'http://localhost:4040')
  assert.equal(allowedOrigin('http://127.0.0.1:4001', 'localhost:4090'), 'http://127.0.0.1:4001')
  assert.equal(allowedOrigin('http://[::1]:4002', 'localhost:4090'), 'http://[::1]:4002')
  assert.equal(allowedOrigin('http://devbox:4040', 'devbox:4090'), 'http://devbox:4040')
  assert.equal(allowedOrigin('http://evil.example', 'localhost:4090'), null)
  assert.equal(allowedOrigin('http://devbox.evil.example:4040', 'devbox:4090'), null)
  assert.equal(allowedOrigin('null', 'localhost:4090'), null)
  assert.equal(allowedOrigin('file://', 'localhost:4090'), null)
  assert.equal(allowedOrigin(undefined, 'localhost:4090'), null)
})

test('a page gets hello, then each event as one JSON line, with CORS for its origin', async (t) => {
  const dev = await startDevServer({ host: '127.0.0.1', port: 0 })
  t.after(() => dev.close())
  const page = await open(dev.port, { origin: 'http://localhost:4040' })
  t.after(() => page.close())
  assert.equal(page.status, 200)
  assert.match(String(page.headers['content-type']), /^text\/event-stream/)
  assert.equal(page.headers['access-control-allow-origin'], 'http://localhost:4040')
  await page.until(/event: hello\ndata: "[0-9a-f]{16}"\n\n/)
  assert.match(page.text(), /^retry: 1000\n/)
  assert.equal(dev.clients(), 1)
  dev.send('reload', { parts: ['todo'], ports: [4040, 4001] })
  dev.send('css', {})
  await page.until(/event: css/)
  assert.ok(page.text().endsWith(`${frame('reload', { parts: ['todo'], ports: [4040, 4001] })}${frame('css', {})}`))
  // A detail with line breaks cannot end the message early: JSON keeps it on one line.
  assert.equal(frame('reload', 'a\n\nevent: css'), 'event: reload\ndata: "a\\n\\nevent: css"\n\n')
})

test('another site is refused, other paths are 404, and close() ends the open streams', async (t) => {
  const dev = await startDevServer({ host: '127.0.0.1', port: 0 })
  t.after(() => dev.close())
  const foreign = await open(dev.port, { origin: 'http://evil.example' })
  assert.equal(foreign.status, 403)
  assert.equal(foreign.headers['access-control-allow-origin'], undefined)
  const other = await fetch(`http://127.0.0.1:${dev.port}/`)
  assert.equal(other.status, 404)
  await other.text()
  const page = await open(dev.port)
  await page.until(/hello/)
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('close() hangs on an open stream')), 5000).unref())
  await Promise.race([dev.close(), timeout])
  assert.equal(dev.clients(), 0)
})

test('a taken port is an error, not a second server', async (t) => {
  const dev = await startDevServer({ host: '127.0.0.1', port: 0 })
  t.after(() => dev.close())
  await assert.rejects(startDevServer({ host: '127.0.0.1', port: dev.port }), { code: 'EADDRINUSE' })
})
