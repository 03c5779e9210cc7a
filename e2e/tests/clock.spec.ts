// The Python clock (examples/python-clock) in a real browser: its standalone page in the
// gateway's look, under its own CSP; its widget composed into the main app; a tick in one
// window reaching the others through the gateway's event stream, both ways.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Locator, Page } from '@playwright/test'
import { freePort, REQUIRE_SERVICES, sleep, startSystem, type System } from '@dx/testkit'
import { Clock, NO_PYTHON, python } from '../../examples/python-clock/test/helpers.js'
import { expect, test } from './fixtures.js'

// CI has python3 and says so with DX_REQUIRE_SERVICES=1: there a missing one fails.
const required = ['1', 'true', 'yes'].includes((process.env[REQUIRE_SERVICES] ?? '').toLowerCase())
if (!python && required) throw new Error(`${NO_PYTHON}, and ${REQUIRE_SERVICES}=1 says the clock's tests must run`)
const skip = python ? false : `${NO_PYTHON}: the Python clock's tests are skipped`
// The list reporter shows a skipped test without its reason: say it once here.
if (skip) console.warn(`clock.spec.ts skipped: ${skip}`)
test.skip(skip !== false, String(skip))

let sys: System | undefined
let clock: Clock | undefined
let dataDir = ''

test.beforeAll(async () => {
  // The gateway needs the clock's address and the clock the gateway's: the clock's port is
  // chosen first and the clock started once the gateway's port is known.
  const secret = randomBytes(16).toString('hex')
  const clockUrl = `http://127.0.0.1:${await freePort()}`
  dataDir = mkdtempSync(join(tmpdir(), 'dx-e2e-clock-'))
  sys = await startSystem({
    services: ['todo'],
    dataDir,
    env: { DX_EVENT_SECRET: secret },
    gatewayEnv: { CLOCK_URL: clockUrl, CLOCK_STANDALONE_URL: clockUrl },
  })
  clock = await new Clock(Number(new URL(clockUrl).port), { DX_EVENT_SECRET: secret, DX_GATEWAY_URL: sys.gateway.url }).start()
  await composedWithClock(sys.gateway.url)
})
test.afterAll(async () => {
  await sys?.stop()
  await clock?.stop()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

/** Waits (bounded) until the gateway's health probe has seen the clock up and composes its widget. */
async function composedWithClock(gateway: string) {
  const until = Date.now() + 15_000
  for (;;) {
    const page = await (await fetch(gateway)).text()
    if (/id="slot-clock"[^>]*>\s*<div class="dx-widget[^"]*" data-dx-widget="clock"/.test(page)) return
    if (Date.now() > until) throw new Error(`the gateway did not compose the clock within 15 s\n${sys?.gateway.output.slice(-2000)}\n${clock?.output.slice(-2000)}`)
    await sleep(200)
  }
}

/**
 * A page in a browser context of its own, as another person would have, once its event
 * stream from the gateway is open (a tick before that would not reach it).
 */
async function person(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  const stream = page.waitForResponse((r) => r.url() === `${sys!.gateway.url}/_dx/events` && r.ok(), { timeout: 10_000 })
  await page.goto(url)
  await stream
  await page.waitForFunction(() => 'htmx' in window)
  return page
}

/** The tick count a clock widget (or its `#clock-ticks` line) shows now. */
async function ticksIn(scope: Page | Locator): Promise<number> {
  const text = await scope.locator('#clock-ticks').textContent()
  const n = /Ticks so far: (\d+)/.exec(text ?? '')?.[1]
  if (n === undefined) throw new Error(`no tick count in ${JSON.stringify(text)}`)
  return Number(n)
}

/** Marks the page's window: the mark is gone after a reload or a navigation. */
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { dxNoReload: boolean }).dxNoReload = true))
const stillMarked = (page: Page) => page.evaluate(() => (window as unknown as { dxNoReload?: boolean }).dxNoReload === true)

/** What the shared stylesheet decides about a page's frame, to compare the clock with the main app. */
const looks = (page: Page) =>
  page.evaluate(() => {
    const style = (sel: string) => getComputedStyle(document.querySelector(sel)!)
    const body = style('body')
    const header = style('header')
    return {
      bodyBackground: body.backgroundColor,
      bodyColor: body.color,
      bodyFont: body.fontFamily,
      headerBackground: header.backgroundColor,
      headerBorder: header.borderBottomWidth,
    }
  })

test('the standalone page: the shared look, htmx, and a tick without a reload', async ({ browser, page }) => {
  const main = await person(browser, sys!.gateway.url)
  const expected = await looks(main)
  // The main app's own look is Tailwind's, not the browser's defaults.
  expect(expected.bodyBackground).not.toBe('rgba(0, 0, 0, 0)')
  expect(expected.headerBorder).not.toBe('0px')

  const response = await page.goto(clock!.url)
  expect(response!.status()).toBe(200)
  const csp = response!.headers()['content-security-policy'] ?? ''
  expect(csp).toContain(`script-src 'self' ${sys!.gateway.url};`)
  // The main app's content-hashed stylesheet, from the gateway's origin (not the built-in
  // frame's plain /assets/app.css, used only while the gateway's layout cannot be read).
  const css = await main.locator('link[rel="stylesheet"]').getAttribute('href')
  expect(css).toMatch(/^\/assets\/app\.[0-9a-f]{8}\.css$/)
  await expect(page.locator('link[rel="stylesheet"]')).toHaveAttribute('href', `${sys!.gateway.url}${css}`)
  await page.waitForFunction(() => 'htmx' in window)
  expect(await looks(page)).toEqual(expected)

  const widget = page.locator('[data-dx-widget="clock"]')
  await expect(widget.getByRole('heading', { name: 'Clock' })).toBeVisible()
  const button = widget.getByRole('button', { name: 'Tick' })
  // Styled by the shared CSS too: an indigo button, not the browser's grey one.
  expect(await button.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(255, 255, 255)')

  const before = await ticksIn(page)
  await mark(page)
  await button.click()
  await expect(widget.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 1}`)
  expect(await stillMarked(page), 'the tick swapped the widget in place: no reload').toBe(true)
  await expect(widget.getByRole('alert')).toBeHidden()
})

test('the main app: the widget in its slot, a tick there reaches the other windows', async ({ browser, page }) => {
  const response = await page.goto(sys!.gateway.url)
  // Composed on the server: the widget is in the first response, not loaded afterwards.
  expect(await response!.text()).toMatch(/id="slot-clock"[^>]*>\s*<div class="dx-widget[^"]*" data-dx-widget="clock"/)
  await page.waitForFunction(() => 'htmx' in window)
  const widget = page.locator('#slot-clock [data-dx-widget="clock"]')
  await expect(widget).toBeVisible()

  // Another person's main app, and the clock's own page: both listen to the gateway's stream.
  const other = await person(browser, sys!.gateway.url)
  const standalone = await person(browser, clock!.url)

  const before = await ticksIn(widget)
  await mark(page)
  await widget.getByRole('button', { name: 'Tick' }).click()
  await expect(widget.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 1}`)
  expect(await stillMarked(page)).toBe(true)
  await expect(other.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 1}`, { timeout: 10_000 })
  await expect(standalone.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 1}`, { timeout: 10_000 })

  // And back: a tick on the standalone page is published by the clock to the gateway.
  await standalone.locator('[data-dx-widget="clock"]').getByRole('button', { name: 'Tick' }).click()
  await expect(standalone.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 2}`)
  await expect(widget.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 2}`, { timeout: 10_000 })
  await expect(other.locator('#clock-ticks')).toHaveText(`Ticks so far: ${before + 2}`, { timeout: 10_000 })
})

test('a todo added in the main app is delivered to the clock, which lists it', async ({ page }) => {
  await page.goto(sys!.gateway.url)
  await page.waitForFunction(() => 'htmx' in window)
  const todo = page.locator('[data-dx-widget="todo"]')
  await todo.getByLabel('New todo').fill('wind the clock')
  await todo.getByRole('button', { name: 'Add' }).click()
  await expect(todo.locator('.todo-text', { hasText: 'wind the clock' })).toBeVisible()
  // The clock lists what it heard when its widget is drawn: each tick redraws it.
  const clockWidget = page.locator('#slot-clock')
  await expect(async () => {
    await clockWidget.getByRole('button', { name: 'Tick' }).click()
    await expect(clockWidget.getByRole('listitem').filter({ hasText: 'todo:added from todo' })).toBeVisible({ timeout: 1000 })
  }).toPass({ timeout: 10_000 })
})
