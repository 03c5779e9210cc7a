// The stale copy in a real Chromium with the real htmx, dx.js, app.css and CSP: writes in
// it send nothing, nothing inside it refreshes itself, it never nests on its refreshes, and
// the live widget takes its place once the service is back. A tiny local server plays the
// gateway: the todo widget is the real one (services/todo views), kept and served through
// LastGood and staleFragment as forward.ts does.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser, type Locator, type Page } from '@playwright/test'
import { Hono, type Context } from 'hono'
import { html } from 'hono/html'
import { getRequestListener } from '@hono/node-server'
import { securityHeaders } from '@dx/kit'
import { assets, layout } from '@dx/ui'
import { todoList, todoWidget } from '../../services/todo/src/views.js'
import { fallbackFragment, LastGood, staleFragment, staleHeaders } from '../src/fallback.js'

const executablePath = process.env.DX_CHROMIUM ?? '/usr/bin/chromium'
const skip = existsSync(executablePath) ? false : `no Chromium at ${executablePath} (set DX_CHROMIUM, or run make test, which installs it)`
const cssPath = fileURLToPath(new URL('../../packages/ui/dist/app.css', import.meta.url))
const cssBuilt = existsSync(cssPath) && readFileSync(cssPath, 'utf8').includes('.dx-stale-copy')

const RETRY_S = 0.3
const page = () =>
  layout({
    title: 'stale test',
    body: html`<div class="grid grid-cols-1 gap-6 md:grid-cols-2">
  <section id="slot-todo" class="dx-slot min-w-0" hx-get="/todo" hx-trigger="load" hx-swap="innerHTML">Loading…</section>
  <section id="native">
    <fieldset disabled>
      <button id="native-post" hx-post="/w/native-post">post</button>
      <button id="native-delete" hx-delete="/w/native-delete">delete</button>
      <div id="native-div" hx-post="/w/native-div" hx-trigger="click">a clickable div</div>
    </fieldset>
  </section>
</div>`,
  })

/** The service's state, and what reached it. */
const state = { up: true, todos: [{ id: 1, text: 'buy milk', done: false, createdAt: '2024-01-01T00:00:00Z' }] }
const writes: string[] = []
const reads: string[] = []
const cache = new LastGood()
const HEADERS = securityHeaders()

// A widget as the service makes it, with two extras no service has yet: a clickable
// non-control and a poll, both of which htmx would run if it processed the copy.
async function liveWidget() {
  return `${await todoWidget(state.todos)}<div class="extra-div" hx-post="/w/stale-div" hx-trigger="click">a clickable div</div><div class="extra-poll" hx-get="/w/poll" hx-trigger="every 200ms"></div>`
}

/** What the gateway does for an htmx GET: the live answer, kept; or the stale copy, or the fallback. */
async function widgetRoute(c: Context, live: () => Promise<string>) {
  reads.push(c.req.path)
  const lookup = (n: string) => c.req.header(n)
  const url = c.req.path
  if (state.up) {
    const body = await live()
    const headers = ['Content-Type', 'text/html; charset=utf-8']
    const key = cache.cacheable(200, headers) ? cache.keyOf(url, undefined, lookup) : undefined
    if (key) cache.put(key, Buffer.from(body))
    return c.html(body, 200, HEADERS)
  }
  const copy = cache.find(url, lookup)
  if (!copy) return c.html(String(await fallbackFragment('Todo', url, 'refused', RETRY_S)), 200, { ...HEADERS, 'x-dx-fallback': 'refused' })
  return c.html(String(await staleFragment('Todo', url, copy, 'refused', { retryS: RETRY_S })), 200, { ...HEADERS, ...staleHeaders(copy) })
}

const app = new Hono()
app.route('/', assets())
app.get('/', (c) => c.html(page(), 200, HEADERS))
app.get('/todo', (c) => widgetRoute(c, liveWidget))
app.get('/todo/list', (c) => widgetRoute(c, async () => String(await todoList(state.todos))))
app.get('/w/poll', (c) => {
  reads.push(c.req.path)
  return c.body(null, 204)
})
app.on(['POST', 'PATCH', 'DELETE'], ['/todo/*', '/w/*'], async (c) => {
  writes.push(`${c.req.method} ${c.req.path}`)
  if (c.req.path === '/todo/items') {
    const text = String((await c.req.parseBody()).text ?? '')
    state.todos.push({ id: state.todos.length + 1, text, done: false, createdAt: new Date().toISOString() })
    return c.html(String(await todoWidget(state.todos)), 200, HEADERS)
  }
  return c.body(null, 204)
})

let server: Server
let origin = ''
let browser: Browser
const problems: string[] = []

before(async () => {
  if (skip) return
  server = createServer(getRequestListener(app.fetch))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  })
})
after(async () => {
  await browser?.close()
  if (server) {
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

async function open(): Promise<Page> {
  const p = await browser.newPage()
  p.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) problems.push(m.text())
  })
  p.on('pageerror', (e) => problems.push(e.message))
  await p.goto(origin)
  await p.waitForFunction(() => 'htmx' in window)
  return p
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const since = (list: string[], from: number) => list.slice(from)

// The stale copy replaces itself every RETRY_S, and a forced click does not wait for a
// settled element: one that lands mid-swap finds its element gone, so click the fresh one.
async function clickThrough(l: Locator) {
  for (let tries = 1; ; tries++) {
    try {
      return await l.click({ force: true, timeout: 2000 })
    } catch (err) {
      if (tries === 5) throw err
      await sleep(50)
    }
  }
}

describe('in Chromium', { skip }, () => {
  test('a disabled fieldset alone stops its buttons, but not htmx on other elements: hence hx-disable', async () => {
    const p = await open()
    await p.locator('#slot-todo [data-dx-widget="todo"]').waitFor()
    const from = writes.length
    // force: Playwright would otherwise wait for the buttons to be enabled. A real click at
    // their place: a disabled control gets no click event, so htmx never sees one.
    await p.locator('#native-post').click({ force: true })
    await p.locator('#native-delete').click({ force: true })
    await sleep(300)
    assert.deepEqual(since(writes, from), [])
    // A non-control inside is not disabled by the fieldset: htmx fires on it.
    await p.locator('#native-div').click()
    await sleep(300)
    assert.deepEqual(since(writes, from), ['POST /w/native-div'])
    await p.close()
  })

  test('the stale copy: banner, no box of its own, and nothing in it sends a request', async () => {
    state.up = true
    let p = await open()
    const live = p.locator('#slot-todo [data-dx-widget="todo"]')
    await live.waitFor()
    const liveBox = (await live.boundingBox())!
    await p.close()

    state.up = false
    p = await open()
    const stale = p.locator('#slot-todo .dx-stale')
    await stale.waitFor()
    const banner = (await stale.locator('.dx-stale-banner').innerText()).replace(/\s+/g, ' ')
    assert.match(banner, /Todo is unavailable right now\. This is a saved copy from a few seconds ago: you can read it, and changes are off until Todo is back\./)
    const copy = stale.locator('fieldset.dx-stale-copy [data-dx-widget="todo"]')
    await copy.waitFor()
    if (cssBuilt) {
      // One query and read in the page: a handle could point at a copy already swapped out.
      const display = await p.evaluate(() => {
        const f = document.querySelector('#slot-todo .dx-stale fieldset')
        return f && getComputedStyle(f).display
      })
      assert.equal(display, 'contents')
      // The copy refreshes itself every 3 s (an outerHTML swap): measure a settled one.
      let box = await copy.boundingBox()
      for (let i = 0; i < 20 && !box; i++) {
        await sleep(100)
        box = await copy.boundingBox()
      }
      assert.ok(box, 'the stale copy is laid out')
      // The same widget, laid out the same: only moved down by the banner.
      assert.deepEqual([box.x, box.width, box.height], [liveBox.x, liveBox.width, liveBox.height])
    } else console.log('# app.css is not built (npm run build:css): its layout is not checked')

    const fromW = writes.length
    const fromR = reads.length
    const fromReq: string[] = []
    p.on('request', (r) => {
      const u = new URL(r.url())
      if (!u.pathname.startsWith('/assets/') && u.pathname !== '/todo') fromReq.push(`${r.method()} ${u.pathname}`)
    })
    const input = copy.getByLabel('New todo')
    assert.equal(await input.isDisabled(), true)
    await clickThrough(input)
    await p.keyboard.type('typed')
    await p.keyboard.press('Enter')
    assert.equal(await input.inputValue(), '', 'a disabled input takes no text')
    await clickThrough(copy.getByRole('button', { name: 'Add' }))
    await clickThrough(copy.getByRole('button', { name: 'Done' }))
    await clickThrough(copy.getByRole('button', { name: 'Remove' }))
    await stale.locator('.extra-div').click()
    // Another window's event: the copy's list must not refresh itself (its answer would land inside the copy).
    await p.evaluate(() => void document.body.dispatchEvent(new CustomEvent('todo:added', { bubbles: true })))
    await sleep(600)
    assert.deepEqual(since(writes, fromW), [], 'no write reached the service')
    assert.deepEqual(since(reads, fromR).filter((r) => r !== '/todo'), [], 'nothing in the copy read anything')
    assert.deepEqual(fromReq, [])

    // It refreshed itself meanwhile (every 0.3 s), never nesting and never repeating an id.
    assert.ok(since(reads, fromR).filter((r) => r === '/todo').length >= 1)
    const shape = await p.evaluate(() => {
      const ids = Array.from(document.querySelectorAll('[id]'), (e) => e.id)
      return { stale: document.querySelectorAll('[data-dx-stale]').length, nested: document.querySelectorAll('[data-dx-stale] [data-dx-stale]').length, dupes: ids.filter((id, i) => ids.indexOf(id) !== i) }
    })
    assert.deepEqual(shape, { stale: 1, nested: 0, dupes: [] })

    // Back: the live widget replaces the copy, and its writes work.
    state.up = true
    const back = p.locator('#slot-todo > [data-dx-widget="todo"]')
    await back.waitFor({ timeout: 5000 })
    assert.equal(await p.locator('[data-dx-stale]').count(), 0)
    await back.getByLabel('New todo').fill('after')
    await back.getByRole('button', { name: 'Add' }).click()
    await p.locator('#slot-todo li', { hasText: 'after' }).waitFor()
    assert.ok(since(writes, fromW).includes('POST /todo/items'))
    await p.close()
  })

  test('no CSP violation and no page error', () => {
    assert.deepEqual(problems, [])
  })
})
