// Open windows stay in step, and an action costs one request: checked in a real Chromium
// with the real htmx, against a real todo process, since it rests on how htmx orders
// HX-Trigger, swaps and trigger delays. The events of other windows arrive through the
// gateway's stream, where dx.js fires them on body; here the test fires them on body.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { chromium, type Browser, type Page } from '@playwright/test'
import { freePort, Proc, sleep } from '@dx/testkit'

const executablePath = process.env.DX_CHROMIUM ?? '/usr/bin/chromium'
const skip = existsSync(executablePath) ? false : `no Chromium at ${executablePath} (set DX_CHROMIUM, or run make test, which installs it)`

let todo: Proc
let browser: Browser
const problems: string[] = []

before(async () => {
  if (skip) return
  todo = await new Proc({
    name: 'todo',
    entry: 'services/todo/src/main.ts',
    port: await freePort(),
    env: {
      TODO_DB: join(mkdtempSync(join(tmpdir(), 'dx-todo-sync-')), 'todo.db'),
      // No gateway here: the page's event stream goes to a closed port, never to a real one.
      DX_GATEWAY_URL: `http://127.0.0.1:${await freePort()}`,
    },
  }).start()
  browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  })
})
after(async () => {
  await browser?.close()
  await todo?.stop()
})

/** A standalone todo page with a log of the requests it sends to the todo service (not its assets, not the gateway). */
async function openPage() {
  const page = await browser.newPage()
  const requests: string[] = []
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (url.origin === todo.url && url.pathname.startsWith('/todo/')) requests.push(`${r.method()} ${url.pathname}`)
  })
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(todo.url)
  await page.waitForFunction(() => 'htmx' in window)
  return { page, requests, widget: page.locator('[data-dx-widget="todo"]') }
}

/** What dx.js does with an event relayed from another window. */
const fire = (page: Page, name: string, detail: unknown = {}) =>
  page.evaluate(([n, d]) => void document.body.dispatchEvent(new CustomEvent(n as string, { bubbles: true, detail: d })), [name, detail] as const)

/** Waits until the page is quiet, then returns the requests sent since `from`. */
async function settled(requests: string[], from: number) {
  await sleep(400)
  return requests.slice(from)
}

test('an add, a done and a remove on this page: one request each, and the list is not fetched again', { skip }, async () => {
  const { widget, requests } = await openPage()
  let from = requests.length
  await widget.getByLabel('New todo').fill('buy milk')
  await widget.getByRole('button', { name: 'Add' }).click()
  const row = widget.locator('li', { hasText: 'buy milk' })
  await row.waitFor()
  assert.deepEqual(await settled(requests, from), ['POST /todo/items'])

  from = requests.length
  await row.getByRole('button', { name: 'Done' }).click()
  await row.getByRole('button', { name: 'Undo' }).waitFor()
  assert.deepEqual(await settled(requests, from), ['PATCH /todo/items/1'])

  from = requests.length
  await row.getByRole('button', { name: 'Remove' }).click()
  await widget.locator('li', { hasText: 'buy milk' }).waitFor({ state: 'detached' })
  assert.deepEqual(await settled(requests, from), ['DELETE /todo/items/1'])
  assert.deepEqual(problems, [])
})

test("another window's event refreshes the list once, and what is being typed stays", { skip }, async () => {
  const { page, widget, requests } = await openPage()
  const input = widget.getByLabel('New todo')
  await input.fill('half typed')
  await input.focus()

  // Another window added a todo: it is stored, and its event arrives here.
  await fetch(`${todo.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'from elsewhere' }) })
  let from = requests.length
  await fire(page, 'todo:added', { id: 2, text: 'from elsewhere' })
  await widget.locator('li', { hasText: 'from elsewhere' }).waitFor()
  assert.deepEqual(await settled(requests, from), ['GET /todo/list'])
  assert.equal(await input.inputValue(), 'half typed')
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'todo-text', 'the input keeps the focus')
  assert.match((await widget.locator('.todo-count').textContent())!, /1 of 1 left/)

  // A burst of events (several changes elsewhere) is one fetch.
  await fetch(`${todo.url}/todo/items/2`, { method: 'PATCH', body: new URLSearchParams({ done: 'true' }) })
  from = requests.length
  await fire(page, 'todo:updated')
  await fire(page, 'todo:updated')
  await fire(page, 'todo:removed')
  await widget.locator('.todo-count', { hasText: '0 of 1 left' }).waitFor()
  assert.deepEqual(await settled(requests, from), ['GET /todo/list'])

  // Events were missed (the stream was away too long): the list is fetched again.
  await fetch(`${todo.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'missed' }) })
  from = requests.length
  await fire(page, 'dx:resync')
  await widget.locator('li', { hasText: 'missed' }).waitFor()
  assert.deepEqual(await settled(requests, from), ['GET /todo/list'])

  // The page's own action right after still works as one request.
  from = requests.length
  await widget.getByRole('button', { name: 'Add' }).click()
  await widget.locator('li', { hasText: 'half typed' }).waitFor()
  assert.deepEqual(await settled(requests, from), ['POST /todo/items'])
  assert.deepEqual(problems, [])
})

test('a refresh under way is replaced by a newer one, never queued behind it and lost', { skip }, async () => {
  const { page, widget, requests } = await openPage()
  // The first refresh is answered by the server at once (without the second change) but
  // reaches the page only after the second change is stored and its event has fired.
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  let first = true
  await page.route('**/todo/list', async (route) => {
    if (!first) return route.continue()
    first = false
    const response = await route.fetch()
    await held
    await route.fulfill({ response }).catch(() => {})
  })
  await fetch(`${todo.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'first change' }) })
  const from = requests.length
  await fire(page, 'todo:added')
  await sleep(200)
  await fetch(`${todo.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'second change' }) })
  await fire(page, 'todo:added')
  await sleep(200)
  release()
  await widget.locator('li', { hasText: 'second change' }).waitFor({ timeout: 5000 })
  await widget.locator('li', { hasText: 'first change' }).waitFor()
  assert.deepEqual(await settled(requests, from), ['GET /todo/list', 'GET /todo/list'])
  assert.deepEqual(problems, [])
})

test('a refresh that starts while a write is under way never aborts the write', { skip }, async () => {
  await fetch(`${todo.url}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'tick me' }) })
  const { page, widget } = await openPage()
  await page.evaluate(() => {
    const w = window as unknown as { aborted: string[] }
    w.aborted = []
    document.addEventListener('htmx:sendAbort', (e) => w.aborted.push((e as CustomEvent).detail.requestConfig.verb))
  })
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  await page.route('**/todo/items/*', async (route) => {
    const response = await route.fetch()
    await held
    await route.fulfill({ response }).catch(() => {})
  })
  const row = widget.locator('li', { hasText: 'tick me' })
  await row.getByRole('button', { name: 'Done' }).click()
  await sleep(100)
  await fire(page, 'todo:updated')
  await sleep(300)
  release()
  await widget.locator('li', { hasText: 'tick me' }).getByRole('button', { name: 'Undo' }).waitFor()
  await sleep(300)
  assert.deepEqual(await page.evaluate(() => (window as unknown as { aborted: string[] }).aborted), [])
  assert.deepEqual(problems, [])
})
