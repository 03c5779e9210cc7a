// GET / is composed on the server: widgets fetched in parallel, streamed into the shell.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/server.js'
import { listen, upstream } from './helpers.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
const fragment = (text: string): Handler => (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<div class="w">${text}</div>`)

/** A gateway with services a, b, c, each on its own upstream; `extra[name]` adds TOML lines. */
async function system(handlers: Record<'a' | 'b' | 'c', Handler>, extra: Partial<Record<'a' | 'b' | 'c', string>> = {}) {
  const ups = await Promise.all(Object.values(handlers).map((h) => upstream(h)))
  const names = Object.keys(handlers) as Array<'a' | 'b' | 'c'>
  const toml = `[gateway]\nport = 0\nhealth_interval_ms = 0\n` + names.map((n, i) => `[[services]]\nname = "${n}"\nupstreams = ["${ups[i].url}"]\n${extra[n] ?? ''}\n`).join('')
  const gw = createGateway(parseConfig(toml, 'test.toml'))
  const port = await listen(gw.server)
  return {
    url: `http://127.0.0.1:${port}`,
    ups,
    close: async () => {
      await gw.close(200)
      await Promise.all(ups.map((u) => u.close()))
    },
  }
}

/** GET / with its chunks as they arrive, each stamped with what had happened by then. */
function getChunks(url: string, headers: Record<string, string> = {}, onFirst?: () => void) {
  return new Promise<{ res: IncomingMessage; chunks: string[] }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: string[] = []
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        if (chunks.length === 0) onFirst?.()
        chunks.push(c)
      })
      res.on('end', () => resolve({ res, chunks }))
    })
    req.on('error', reject)
    req.end()
  })
}

const slotOf = (page: string, name: string) => {
  const m = new RegExp(`<section id="slot-${name}"([^>]*)>([\\s\\S]*?)</section>`).exec(page)
  assert.ok(m, `slot ${name} is in the page`)
  return { attrs: m[1], inner: m[2] }
}

test('every slot is filled on the server when all widgets answer in time, in page order', async () => {
  const sys = await system({ a: fragment('alpha'), b: fragment('beta'), c: fragment('gamma') })
  try {
    const r = await fetch(sys.url)
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/)
    assert.equal(r.headers.get('cache-control'), 'no-store')
    const page = await r.text()
    assert.match(page, /^<!doctype html>/)
    assert.match(page, /<\/html>\s*$/)
    for (const [name, text] of [['a', 'alpha'], ['b', 'beta'], ['c', 'gamma']]) {
      const s = slotOf(page, name)
      assert.match(s.inner, new RegExp(`<div class="w">${text}</div>`))
      assert.doesNotMatch(s.attrs, /hx-get/, 'a filled slot is not fetched again by the browser')
    }
    assert.ok(page.indexOf('slot-a') < page.indexOf('slot-b') && page.indexOf('slot-b') < page.indexOf('slot-c'))
  } finally {
    await sys.close()
  }
})

test('a slot late for its budget is sent as the browser placeholder, and the page does not wait for it', async () => {
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  const sys = await system(
    { a: fragment('alpha'), b: (_q, res) => void held.then(() => fragment('late beta')(_q, res)), c: fragment('gamma') },
    { b: 'compose_budget_ms = 150' },
  )
  try {
    const page = await (await fetch(sys.url)).text()
    const b = slotOf(page, 'b')
    assert.match(b.attrs, /hx-get="\/b"/)
    assert.match(b.attrs, /hx-trigger="load"/)
    assert.match(b.inner, /Loading B&hellip;/)
    assert.doesNotMatch(page, /late beta/)
    assert.match(slotOf(page, 'c').inner, /gamma/, 'slots after the late one are filled')
  } finally {
    release()
    await sys.close()
  }
})

test('the head leaves before the slowest widget has answered', async () => {
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  const sys = await system({ a: fragment('alpha'), b: fragment('beta'), c: (_q, res) => void held.then(() => fragment('slow gamma')(_q, res)) }, { c: 'compose_budget_ms = 5000' })
  try {
    // The slow widget answers only once the first bytes of the page have arrived.
    const { chunks } = await getChunks(sys.url, {}, release)
    assert.match(chunks[0], /<head>[\s\S]*rel="stylesheet"/, 'the first chunk has the head, with the stylesheet')
    assert.doesNotMatch(chunks[0], /slow gamma/)
    assert.match(chunks.join(''), /slow gamma/, 'and the slow widget still came, in its slot')
  } finally {
    release()
    await sys.close()
  }
})

test("a dead service's slot shows its fallback, or its stale copy once one was kept", async () => {
  let aUp = true
  const sys = await system({
    a: (req, res) => (aUp ? fragment('alpha live')(req, res) : void req.socket.destroy()),
    b: fragment('beta'),
    c: fragment('gamma'),
  })
  const deadPort = sys.ups[2].port
  try {
    await sys.ups[2].close() // c is down from the start: nothing kept for it
    const first = await (await fetch(sys.url)).text()
    const c = slotOf(first, 'c')
    assert.match(c.inner, /data-dx-fallback="refused"/)
    assert.match(c.inner, /hx-trigger="load delay:3s"/, 'the fallback retries on its own')
    assert.match(slotOf(first, 'a').inner, /alpha live/)

    aUp = false // a fails now: its copy from the first page is shown, marked stale
    const second = await (await fetch(sys.url)).text()
    const a = slotOf(second, 'a')
    assert.match(a.inner, /data-dx-stale/)
    assert.match(a.inner, /alpha live/)
    assert.match(a.inner, /<fieldset[^>]*disabled/)
    assert.ok(deadPort > 0)
  } finally {
    await sys.close()
  }
})

test("the user's cookies and the page's client id reach the widgets; a widget's Set-Cookie never reaches the page", async () => {
  const seen: IncomingMessage['headers'][] = []
  const record: Handler = (req, res) => {
    seen.push(req.headers)
    res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'widget=evil; Path=/' }).end('<p>w</p>')
  }
  const sys = await system({ a: record, b: record, c: record })
  try {
    const r = await fetch(sys.url, { headers: { cookie: 'dx_actor=ana; theme=dark', 'if-none-match': '"x"', 'x-request-id': 'req-compose-1' } })
    const page = await r.text()
    assert.equal(r.headers.get('set-cookie'), null)
    assert.equal(seen.length, 3)
    const client = /<meta name="dx-client" content="([^"]+)"/.exec(page)?.[1]
    assert.ok(client && /^[A-Za-z0-9_-]{16,64}$/.test(client), 'the page carries its client id')
    for (const h of seen) {
      assert.equal(h.cookie, 'dx_actor=ana; theme=dark')
      assert.equal(h['hx-request'], 'true')
      assert.equal(h['x-dx-client'], client)
      assert.equal(h['x-request-id'], 'req-compose-1')
      assert.equal(h['if-none-match'], undefined, "the page's conditional headers are not the widget's")
    }
  } finally {
    await sys.close()
  }
})

test('a widget the page cannot hold is left to the browser (too big, not HTML, not UTF-8, not 200); a 5xx shows the fallback', async () => {
  const big = '<div class="w">' + 'x'.repeat(600 * 1024) + '</div>'
  const cases: Record<string, Handler> = {
    big: (_q, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(big),
    json: (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"w":1}'),
    latin1: (_q, res) => res.writeHead(200, { 'content-type': 'text/html; charset=iso-8859-1' }).end('<div class="w">caf\xe9</div>'),
    moved: (_q, res) => res.writeHead(302, { location: '/elsewhere', 'content-type': 'text/html' }).end('<p>moved</p>'),
  }
  for (const [what, handler] of Object.entries(cases)) {
    const sys = await system({ a: handler, b: fragment('beta'), c: (_q, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<p>down</p>') })
    try {
      const page = await (await fetch(sys.url)).text()
      const a = slotOf(page, 'a')
      assert.match(a.attrs, /hx-get="\/a"/, `${what}: the browser loads it`)
      assert.doesNotMatch(a.inner, /class="w"|moved/, `${what}: nothing of it is in the page`)
      assert.match(slotOf(page, 'b').inner, /beta/, `${what}: the next slot is filled`)
      assert.match(slotOf(page, 'c').inner, /data-dx-fallback="upstream-5xx"/)
    } finally {
      await sys.close()
    }
  }
})

test('the next replica is tried when one refuses, and a page whose client left drops its widget requests', async () => {
  const closed: number[] = []
  let startedAt = 0
  const heldUp = await upstream((req) => req.on('close', () => closed.push(Date.now())))
  const good = await upstream(fragment('from the second replica'))
  const dead = await upstream(fragment('never'))
  await dead.close()
  const toml =
    `[gateway]\nport = 0\nhealth_interval_ms = 0\n` +
    `[[services]]\nname = "a"\nupstreams = ["${dead.url}", "${good.url}"]\n` +
    `[[services]]\nname = "b"\nupstreams = ["${heldUp.url}"]\ncompose_budget_ms = 5000\n`
  const gw = createGateway(parseConfig(toml, 'test.toml'))
  const port = await listen(gw.server)
  try {
    // b never answers: the page is still streaming its head and slot a when the client leaves.
    const first = await new Promise<string>((resolve, reject) => {
      const req = request(`http://127.0.0.1:${port}/`, (res) => {
        res.setEncoding('utf8')
        let seen = ''
        res.on('data', (c: string) => {
          seen += c
          if (/slot-a[\s\S]*<\/section>/.test(seen)) {
            startedAt = Date.now()
            req.destroy()
            resolve(seen)
          }
        })
      })
      req.on('error', (e) => (startedAt ? undefined : reject(e)))
      req.end()
    })
    assert.match(slotOf(first, 'a').inner, /from the second replica/)
    for (let i = 0; i < 50 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(closed.length, 1, "b's request is dropped when the page's client leaves")
    assert.ok(closed[0] - startedAt < 1000, 'long before its 5 s budget')
  } finally {
    await gw.close(200)
    await Promise.all([heldUp.close(), good.close()])
  }
})
