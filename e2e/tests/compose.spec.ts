// The main app is composed on the server: widgets arrive in the first response.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSystem, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let sys: System
let slowNews: Server
let newsHits = 0

// A news stand-in whose widget takes longer than its slot budget (300 ms by default).
function slowNewsServer() {
  return createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    if (req.url === '/_dx/manifest') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'news', prefix: '/news', widget: '/news', subscribes: [] }))
    }
    if (req.url === '/news') {
      newsHits++
      return void setTimeout(() => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<div data-dx-widget="news"><p class="slow-news">late but here</p></div>'), 1200)
    }
    res.writeHead(404).end()
  })
}

// The shipped budget (300 ms) is for a quiet server; a test machine running the suite and a
// browser may be slower than that now and then (a service's first widget after its start
// most of all), and a late slot would fail these for no fault. `tight` keeps the shipped
// budget for the services named.
function generousConfig(dir: string, tight: string[] = []) {
  const file = join(dir, 'gateway.toml')
  const budget = (name: string) => (tight.includes(name) ? '' : 'compose_budget_ms = 5000\n')
  const svc = (name: string) => `[[services]]\nname = "${name}"\nupstreams = ["http://127.0.0.1:1"]\n${budget(name)}`
  writeFileSync(file, ['todo', 'chat', 'news'].map(svc).join('\n'))
  return file
}

test.describe('all three services up', () => {
  test.beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dx-e2e-compose-'))
    sys = await startSystem({ services: ['todo', 'chat', 'news'], dataDir, gatewayEnv: { DX_CONFIG: generousConfig(dataDir) } })
  })
  test.afterAll(async () => {
    await sys?.stop()
  })

  test('the main app shows all three widgets with JavaScript off', async ({ browser }) => {
    const ctx = await browser.newContext({ javaScriptEnabled: false })
    const page = await ctx.newPage()
    await page.goto(sys.gateway.url)
    await expect(page.locator('#slot-todo [data-dx-widget="todo"]')).toBeVisible()
    await expect(page.locator('#slot-chat [data-dx-widget="chat"]')).toBeVisible()
    await expect(page.locator('#slot-news [data-dx-widget="news"]')).toBeVisible()
    await expect(page.getByText(/^Loading /)).toHaveCount(0)
    await ctx.close()
  })

  test('with JavaScript on, nothing is fetched twice at load', async ({ page }) => {
    const urls: string[] = []
    page.on('request', (r) => urls.push(new URL(r.url()).pathname))
    const stream = page.waitForRequest((r) => r.url().includes('/_dx/events'))
    await page.goto(sys.gateway.url)
    await page.waitForFunction(() => 'htmx' in window)
    // dx.js opens the event stream last, once the page is up; anything htmx loads at load goes out by then.
    await stream
    await page.waitForTimeout(500)
    for (const w of ['/todo', '/chat', '/news']) expect(urls.filter((u) => u === w), `${w} came with the page`).toHaveLength(0)
    const twice = urls.filter((u, i) => u !== '/_dx/events' && urls.indexOf(u) !== i)
    expect(twice, 'requests made more than once').toEqual([])
    await expect(page.locator('#slot-todo [data-dx-widget="todo"]')).toBeVisible()
  })
})

test.describe('one widget slower than its budget', () => {
  test.beforeAll(async () => {
    slowNews = slowNewsServer()
    await new Promise<void>((r) => slowNews.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(slowNews.address() as AddressInfo).port}`
    const dataDir = mkdtempSync(join(tmpdir(), 'dx-e2e-compose-slow-'))
    // Only news, 1.2 s to answer, is held to the shipped 300 ms: todo must be in the page.
    sys = await startSystem({ services: ['todo'], dataDir, gatewayEnv: { NEWS_URL: url, DX_CONFIG: generousConfig(dataDir, ['news']) } })
  })
  test.afterAll(async () => {
    await sys?.stop()
    slowNews?.closeAllConnections()
    await new Promise<void>((r) => slowNews?.close(() => r()))
  })

  test('a slow slot is a placeholder in the page, then loads in the browser', async ({ page }) => {
    const asked: string[] = []
    page.on('request', (r) => asked.push(new URL(r.url()).pathname))
    const response = await page.goto(sys.gateway.url)
    const first = await response!.text()
    // As sent: todo in place, news left to the browser.
    expect(first).toMatch(/id="slot-todo"[^>]*>\s*<div class="dx-widget/)
    expect(first).toMatch(/id="slot-news"[^>]*hx-get="\/news"[^>]*hx-trigger="load"/)
    await expect(page.locator('#slot-news .slow-news')).toHaveText('late but here', { timeout: 10_000 })
    expect(asked.filter((u) => u === '/news'), 'the browser asked for the late widget once').toHaveLength(1)
    expect(newsHits, 'the gateway tried once, the browser once').toBe(2)
  })
})
