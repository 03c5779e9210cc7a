import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type ServiceName, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let fake: FakeHn
let sys: System
let evil: Server
let evilUrl: string
test.beforeAll(async () => {
  fake = await startFakeHn()
  fake.setStories([fakeStory(1)])
  sys = await startSystem({
    services: ['todo', 'chat', 'news'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-security-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
  evil = await attackerSite()
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`
})
test.afterAll(async () => {
  await sys?.stop()
  await fake?.close()
  await new Promise((r) => evil?.close(r))
})

/**
 * Another site (another port is another origin) whose page posts a form to the URL in its
 * query as soon as it loads: what a CSRF attack does with the visitor's browser.
 */
function attackerSite(): Promise<Server> {
  const server = createServer((req, res) => {
    const target = new URLSearchParams((req.url ?? '').split('?')[1]).get('target') ?? ''
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><title>free prizes</title>
<form method="post" action="${target.replace(/"/g, '&quot;')}"><input name="text" value="forged by another site"></form>
<script>document.forms[0].submit()</script>`)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const pages = (): Array<[string, string]> => [
  ['main app', sys.gateway.url],
  ...(['todo', 'chat', 'news'] as ServiceName[]).map((name): [string, string] => [`${name} standalone`, sys.services[name]!.url]),
]

test('the main app and every standalone page carry the page policy headers', async ({ page }) => {
  for (const [what, url] of pages()) {
    const res = await page.goto(url)
    const headers = res!.headers()
    expect(headers['content-security-policy'], what).toMatch(/default-src 'self'/)
    expect(headers['content-security-policy'], what).toMatch(/frame-ancestors 'none'/)
    expect(headers['content-security-policy'], what).not.toMatch(/unsafe-inline|unsafe-eval/)
    expect(headers['x-content-type-options'], what).toBe('nosniff')
    expect(headers['referrer-policy'], what).toBe('same-origin')
    await expect(page.locator('[data-dx-widget]').first(), what).toBeVisible()
  }
  // A standalone page may open the gateway's event stream, and nothing else elsewhere.
  const todo = await page.goto(sys.services.todo!.url)
  expect(todo!.headers()['content-security-policy']).toMatch(new RegExp(`connect-src 'self' ${sys.gateway.url}(;|$)`))
})

test('every page has the icon, at /assets/favicon.svg and /favicon.ico', async ({ page, request }) => {
  for (const [what, url] of pages()) {
    await page.goto(url)
    await expect(page.locator('link[rel="icon"]'), what).toHaveAttribute('href', /^\/assets\/favicon\.[0-9a-f]{8}\.svg$/)
    for (const path of ['/assets/favicon.svg', '/favicon.ico']) {
      const r = await request.get(url + path)
      expect(r.status(), `${what} ${path}`).toBe(200)
      expect(r.headers()['content-type'], `${what} ${path}`).toBe('image/svg+xml')
    }
  }
})

test('a form another site posts to the gateway or to todo itself is refused with 403, and no todo is added', async ({ page, request }) => {
  for (const base of [sys.gateway.url, sys.services.todo!.url]) {
    const answer = page.waitForResponse((r) => r.url() === `${base}/todo/items` && r.request().method() === 'POST')
    await page.goto(`${evilUrl}/?${new URLSearchParams({ target: `${base}/todo/items` })}`)
    const res = await answer
    expect(res.status(), base).toBe(403)
    await expect(page.locator('body')).toContainText(/cross-site/i)
  }
  const todos = (await (await request.get(`${sys.services.todo!.url}/todo/items`)).json()) as Array<{ text: string }>
  expect(todos.map((t) => t.text)).not.toContain('forged by another site')

  // The same form on the app's own page goes through.
  await page.goto(sys.gateway.url)
  const widget = page.locator('#slot-todo [data-dx-widget="todo"]')
  await widget.getByLabel('New todo').fill('written on our own page')
  await widget.getByRole('button', { name: 'Add' }).click()
  await expect(widget.locator('li', { hasText: 'written on our own page' })).toBeVisible()
})
