// How the pages look to a user, measured: the chat input right under the messages, news
// details that say "Hide" while open, standalone pages at a readable width, an even header
// on a phone, the join hint's characters legible.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let fake: FakeHn
let sys: System
test.beforeAll(async () => {
  fake = await startFakeHn()
  fake.setStories(Array.from({ length: 8 }, (_, i) => fakeStory(i + 1, i === 0 ? { kids: [100], descendants: 1 } : {})))
  fake.setItem(100, { id: 100, type: 'comment', by: 'commenter', text: 'A first comment', time: Math.floor(Date.now() / 1000) - 600 })
  sys = await startSystem({
    services: ['todo', 'chat', 'news'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-look-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
})
test.afterAll(async () => {
  await sys?.stop()
  await fake?.close()
})

const box = async (l: Locator) => {
  const b = await l.boundingBox()
  expect(b, String(l)).not.toBeNull()
  return b!
}

async function joinChat(page: Page, nick: string) {
  const chat = page.locator('[data-dx-widget="chat"]')
  await chat.getByLabel('Nickname').fill(nick)
  await chat.getByLabel('Room').fill('lobby')
  await chat.getByRole('button', { name: 'Join' }).click()
  await expect(chat.locator('.chat-status')).toHaveText('connected')
  return chat
}

/** The message input starts right under the messages (its form's margin only), as wide as they are. */
async function expectInputUnderMessages(chat: Locator) {
  const messages = await box(chat.locator('#chat-messages'))
  const input = await box(chat.getByLabel('Message'))
  const send = await box(chat.getByRole('button', { name: 'Send' }))
  const gap = input.y - (messages.y + messages.height)
  expect(gap, 'space between the messages and the input').toBeGreaterThanOrEqual(0)
  expect(gap, 'space between the messages and the input').toBeLessThanOrEqual(16)
  expect(Math.abs(input.x - messages.x), 'input and messages start at the same left edge').toBeLessThanOrEqual(1)
  expect(Math.abs(send.x + send.width - (messages.x + messages.width)), 'Send ends where the messages end').toBeLessThanOrEqual(1)
}

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  test.describe(`${viewport.width} px wide`, () => {
    test.use({ viewport })

    test('chat: the message input sits right under the messages, in the main app and standalone', async ({ page }) => {
      await page.goto(sys.gateway.url)
      await expectInputUnderMessages(await joinChat(page, `m${viewport.width}`))
      await page.goto(sys.services.chat!.url)
      await expectInputUnderMessages(await joinChat(page, `s${viewport.width}`))
    })

    test('the join hint shows each allowed symbol as code, without padded spaces', async ({ page }) => {
      await page.goto(sys.services.chat!.url)
      const hint = page.locator('[data-dx-widget="chat"] .chat-join-hint')
      await expect(hint).toContainText('letters, digits, _ (underscore), - (hyphen) and . (dot)')
      const codes = hint.locator('code')
      await expect(codes).toHaveText(['_', '-', '.'])
      const em = parseFloat(await hint.evaluate((el) => getComputedStyle(el).fontSize))
      for (let i = 0; i < 3; i++) {
        const code = codes.nth(i)
        expect(await code.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/i)
        // One character and its chip's padding: about one em, never the width of "_ - .".
        expect((await box(code)).width).toBeLessThan(1.5 * em)
      }
    })

    test('header: links on even rows and columns, inside the page, each on one line', async ({ page }) => {
      for (const url of [sys.gateway.url, sys.services.news!.url]) {
        await page.goto(url)
        const brand = await box(page.locator('header a').first())
        const links = page.locator('header nav a')
        const n = await links.count()
        expect(n).toBeGreaterThan(0)
        const boxes = await Promise.all(Array.from({ length: n }, (_, i) => box(links.nth(i))))
        const lineHeight = parseFloat(await links.first().evaluate((el) => getComputedStyle(el).lineHeight))
        for (const b of boxes) {
          expect(b.x).toBeGreaterThanOrEqual(0)
          expect(b.x + b.width).toBeLessThanOrEqual(viewport.width)
          expect(b.height, 'a link on one line').toBeLessThan(1.5 * lineHeight + 8)
        }
        const rows = [...new Set(boxes.map((b) => Math.round(b.y)))].sort((a, b) => a - b)
        // Rows the same distance apart; links of a row one height.
        for (let i = 2; i < rows.length; i++) expect(Math.abs(rows[i]! - rows[i - 1]! - (rows[1]! - rows[0]!))).toBeLessThanOrEqual(1)
        // Each row's links start at the first row's columns: a grid, not a ragged wrap.
        const columns = boxes.filter((b) => Math.round(b.y) === rows[0]).map((b) => Math.round(b.x))
        for (const b of boxes) expect(columns.some((c) => Math.abs(c - b.x) <= 1), `link at ${b.x} on a column`).toBe(true)
        if (viewport.width === 390) {
          // On a phone the links are under the title, starting at its left edge.
          expect(Math.abs(boxes[0]!.x - brand.x)).toBeLessThanOrEqual(1)
          expect(boxes[0]!.y).toBeGreaterThan(brand.y + brand.height - 1)
          // Rows of links no further apart than the title is from them: one block, evenly spaced.
          const rowGap = rows.length > 1 ? rows[1]! - (rows[0]! + boxes[0]!.height) : 0
          expect(rowGap, 'space between rows of links').toBeLessThanOrEqual(boxes[0]!.y - (brand.y + brand.height) + 1)
        }
      }
    })
  })
}

test.describe('1280 px wide', () => {
  test.use({ viewport: { width: 1280, height: 800 } })

  test('standalone pages keep their widget and inputs to a readable width, centred', async ({ page }) => {
    const maxWidth = 48 * 16
    for (const [name, url] of Object.entries({ todo: sys.services.todo!.url, chat: sys.services.chat!.url, news: sys.services.news!.url })) {
      await page.goto(url)
      const widget = page.locator(`[data-dx-widget="${name}"]`)
      const w = await box(widget)
      expect(w.width, `${name} widget width`).toBeLessThanOrEqual(maxWidth)
      expect(w.width, `${name} widget width`).toBeGreaterThan(maxWidth / 2)
      expect(Math.abs(w.x - (1280 - w.x - w.width)), `${name} centred`).toBeLessThanOrEqual(16)
      const inputs = widget.locator('input:visible')
      for (let i = 0; i < (await inputs.count()); i++) expect((await box(inputs.nth(i))).width).toBeLessThanOrEqual(maxWidth)
    }
  })

  test('news: a story\'s two buttons are one height and top, wherever the row puts them', async ({ page }) => {
    for (const url of [sys.gateway.url, sys.services.news!.url]) {
      await page.goto(url)
      const story = page.locator('[data-dx-widget="news"] .news-story[data-story-id="1"]')
      const details = await box(story.locator('.news-details-toggle summary'))
      const fav = await box(story.locator('.news-fav'))
      expect(Math.abs(details.height - fav.height), `${url}: heights ${details.height} and ${fav.height}`).toBeLessThanOrEqual(1)
      expect(Math.abs(details.y - fav.y)).toBeLessThanOrEqual(1)
    }
  })

  test('news: "Details" reads "Hide" while the details are open, and hides them', async ({ page }) => {
    await page.goto(sys.gateway.url)
    const story = page.locator('[data-dx-widget="news"] .news-story[data-story-id="1"]')
    const toggle = story.locator('.news-details-toggle summary')
    const detail = story.locator('.news-detail')
    await expect(toggle).toHaveText(/^\s*Details\s*Hide\s*$/)
    await expect(toggle.getByText('Details', { exact: true })).toBeVisible()
    await expect(toggle.getByText('Hide', { exact: true })).toBeHidden()
    await expect(toggle).toHaveAccessibleName('Details')

    await toggle.click()
    await expect(detail).toContainText('A first comment')
    await expect(detail).toBeVisible()
    await expect(toggle.getByText('Hide', { exact: true })).toBeVisible()
    await expect(toggle.getByText('Details', { exact: true })).toBeHidden()
    await expect(toggle).toHaveAccessibleName('Hide')
    await expect(story.locator('details')).toHaveAttribute('open', '')

    await toggle.click()
    await expect(detail).toBeHidden()
    await expect(toggle.getByText('Details', { exact: true })).toBeVisible()
    // Other stories' toggles were never touched.
    await expect(page.locator('.news-details-toggle[open]')).toHaveCount(0)

    // Open again: the details come back (loaded once, kept), by keyboard too.
    await toggle.focus()
    await page.keyboard.press('Enter')
    await expect(detail).toBeVisible()
    await expect(toggle.getByText('Hide', { exact: true })).toBeVisible()
  })
})
