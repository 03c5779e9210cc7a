import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Locator, Page, TestInfo } from '@playwright/test'
import { expect, test } from './fixtures.js'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type System } from '@dx/testkit'

// Text that users and Hacker News control must never widen the page: long words wrap, the
// news list scrolls inside its card, titles keep to two lines at desktop width.

const LONG_WORD = (seed: string) => `${seed}${'x'.repeat(300)}`.slice(0, 300)
const longHost = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example`
const longUrl = `https://${longHost}/${'path'.repeat(50)}?q=${'v'.repeat(100)}`

// Realistic Hacker News titles of about 80 characters, wide letters included.
const TITLES = [
  'Show HN: A tiny HTMX and Tailwind micro-frontend gateway written in TypeScript',
  'Why We Moved Our Monolith to Micro-Frontends and Then Mostly Back Again in 2025',
  'PostgreSQL 18 Released With Asynchronous I/O, UUIDv7 and Virtual Generated Columns',
  'Ask HN: What Is the Most Underrated Tool in Your Web Development Workflow Today?',
  'The Hidden Cost of WebSockets: Memory, Mobile Networks and Message Backpressure',
  'MIT Researchers Demonstrate a Battery Made From Cement, Water and Carbon Black',
]
const titleOf = (id: number) => TITLES[id % TITLES.length]!

const RTL = 'עדכון גרסה 2.0 של הספרייה'

let fake: FakeHn
let sys: System
test.beforeAll(async () => {
  fake = await startFakeHn()
  const stories = Array.from({ length: 30 }, (_, i) => fakeStory(i + 1, { title: titleOf(i + 1) }))
  // Story 2: everything Hacker News controls, as long as it can get.
  stories[1] = fakeStory(2, {
    title: LONG_WORD('Unbreakable'),
    by: 'b'.repeat(80),
    url: longUrl,
    kids: [500],
    descendants: 1,
  })
  stories[3] = fakeStory(4, { title: `${RTL} (release notes)` })
  fake.setStories(stories)
  fake.setItem(500, { id: 500, type: 'comment', by: 'c'.repeat(80), text: `Look: ${LONG_WORD('comment')}`, time: Math.floor(Date.now() / 1000) - 60 })
  sys = await startSystem({
    services: ['todo', 'chat', 'news'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-layout-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
})
test.afterAll(async () => {
  await sys?.stop()
  await fake?.close()
})

/** The page does not scroll sideways, and nothing inside a widget sticks out of it or scrolls sideways. */
async function expectNoHorizontalOverflow(page: Page) {
  const m = await page.evaluate(() => {
    const doc = document.documentElement
    const viewport = doc.clientWidth
    const widgets = Array.from(document.querySelectorAll<HTMLElement>('[data-dx-widget]')).map((w) => {
      const box = w.getBoundingClientRect()
      const out: string[] = []
      for (const el of Array.from(w.querySelectorAll<HTMLElement>('*'))) {
        const r = el.getBoundingClientRect()
        if (r.width === 0 && r.height === 0) continue
        const desc = `${el.tagName.toLowerCase()}.${Array.from(el.classList).slice(0, 2).join('.')}`
        if (r.right > box.right + 0.5 || r.left < box.left - 0.5) out.push(`${desc} sticks out (${Math.round(r.left)}–${Math.round(r.right)})`)
        const style = getComputedStyle(el)
        if (style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) out.push(`${desc} scrolls sideways`)
      }
      return { name: w.dataset.dxWidget, left: box.left, right: box.right, out }
    })
    return { scrollWidth: doc.scrollWidth, viewport, innerWidth: window.innerWidth, widgets }
  })
  expect(m.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(m.viewport)
  expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth)
  for (const w of m.widgets) {
    expect(w.left, `${w.name} starts left of the viewport`).toBeGreaterThanOrEqual(0)
    expect(w.right, `${w.name} ends right of the viewport`).toBeLessThanOrEqual(m.viewport)
    expect(w.out, `inside ${w.name}`).toEqual([])
  }
}

async function expectInViewport(page: Page, locator: Locator, what: string) {
  // The todo list renders itself again on its own todo:added event: a row measured mid-swap
  // has no box yet, so ask until it has one.
  let box = await locator.boundingBox()
  for (let i = 0; i < 20 && !box; i++) {
    await page.waitForTimeout(100)
    box = await locator.boundingBox()
  }
  expect(box, what).not.toBeNull()
  const width = await page.evaluate(() => document.documentElement.clientWidth)
  expect(box!.x, `${what}: left edge`).toBeGreaterThanOrEqual(0)
  expect(box!.x + box!.width, `${what}: right edge`).toBeLessThanOrEqual(width)
}

/** How many lines an element's text takes: its distinct line boxes, and its height against its line-height. */
async function lineCount(locator: Locator) {
  return locator.evaluate((el) => {
    const rects = Array.from(el.getClientRects()).filter((r) => r.width > 0)
    const tops = new Set(rects.map((r) => Math.round(r.top)))
    const box = el.getBoundingClientRect()
    const lineHeight = parseFloat(getComputedStyle(el).lineHeight)
    return { lines: tops.size, height: box.height, lineHeight }
  })
}

async function addTodo(page: Page, text: string) {
  const widget = page.locator('[data-dx-widget="todo"]')
  await widget.getByLabel('New todo').fill(text)
  await widget.getByRole('button', { name: 'Add' }).click()
  const row = widget.locator('li', { hasText: text })
  await expect(row).toBeVisible()
  return row
}

async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(name)
  await page.screenshot({ path, fullPage: true })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  test.describe(`at ${viewport.width}×${viewport.height}`, () => {
    test.use({ viewport })

    test('long words wrap, no widget widens the page, the news list stays bounded', async ({ page }, testInfo) => {
      await page.goto(sys.gateway.url)
      const todo = page.locator('#slot-todo [data-dx-widget="todo"]')
      const chat = page.locator('#slot-chat [data-dx-widget="chat"]')
      const news = page.locator('#slot-news [data-dx-widget="news"]')
      await expect(todo).toBeVisible()
      await expect(news.locator('.news-story')).toHaveCount(5)

      // A pasted URL of 300 characters without a space.
      const row = await addTodo(page, LONG_WORD(`https://example.com/${viewport.width}/`))
      await expectInViewport(page, row.getByRole('button', { name: 'Remove' }), 'the todo\'s Remove button')
      await expectInViewport(page, row.getByRole('button', { name: 'Done' }), 'the todo\'s Done button')
      await addTodo(page, `${RTL} ${viewport.width}!`)

      // Chat: the longest nickname and room there may be, a 300-character word, a right-to-left line.
      const nick = `n${viewport.width}`.padEnd(24, 'W')
      await chat.getByLabel('Nickname').fill(nick)
      await chat.getByLabel('Room').fill(`r${viewport.width}`.padEnd(32, 'R'))
      await chat.getByRole('button', { name: 'Join' }).click()
      await expect(chat.locator('.chat-status')).toHaveText('connected')
      const word = LONG_WORD(`said${viewport.width}`)
      await chat.getByLabel('Message').fill(word)
      await chat.getByRole('button', { name: 'Send' }).click()
      await expect(chat.locator('.chat-message', { hasText: word })).toBeVisible()
      await chat.getByLabel('Message').fill(`${RTL} ${viewport.width}`)
      await chat.getByRole('button', { name: 'Send' }).click()
      await expect(chat.locator('.chat-text', { hasText: `${RTL} ${viewport.width}` })).toBeVisible()
      await expect(chat.locator('#chat-members')).toContainText(nick)

      // News: two pages more, the longest story's details and favourite.
      await news.getByRole('button', { name: 'Load more' }).click()
      await expect(news.locator('.news-story')).toHaveCount(10)
      await news.getByRole('button', { name: 'Load more' }).click()
      await expect(news.locator('.news-story')).toHaveCount(15)
      const long = news.locator('.news-story[data-story-id="2"]')
      await long.locator('.news-details-toggle summary').click()
      await expect(long.locator('.news-detail')).toContainText('comment')
      // The favourite outlives the first viewport's run (same database).
      const fav = long.locator('.news-fav')
      if ((await fav.textContent())?.trim() === 'Favourite') await fav.click()
      await expect(news.locator('.news-favorites [data-favorite-id="2"]')).toBeVisible()

      await expectNoHorizontalOverflow(page)

      // The stories list scrolls inside the card instead of growing the page.
      const list = news.locator('.news-stories')
      const box = await list.boundingBox()
      expect(box!.height).toBeLessThanOrEqual(640)
      const scroll = await list.evaluate((el) => ({
        overflowY: getComputedStyle(el).overflowY,
        scrollHeight: el.scrollHeight,
        clientHeight: el.clientHeight,
      }))
      expect(['auto', 'scroll']).toContain(scroll.overflowY)
      expect(scroll.scrollHeight).toBeGreaterThan(scroll.clientHeight)
      // ...and "Load more" can be scrolled to and used.
      await news.getByRole('button', { name: 'Load more' }).scrollIntoViewIfNeeded()
      await expect(news.getByRole('button', { name: 'Load more' })).toBeInViewport()

      // Text from users and Hacker News takes its direction from itself, isolated from its neighbours.
      for (const el of [row.locator('.todo-text'), chat.locator('.chat-text').first(), news.locator('.news-title').first()]) {
        await expect(el).toHaveCSS('unicode-bidi', 'plaintext')
      }

      if (viewport.width === 1280) {
        // Three slots side by side: titles of normal length still take at most two lines.
        const titles = news.locator('.news-story:not([data-story-id="2"]) .news-title')
        for (let i = 0; i < (await titles.count()); i++) {
          const t = titles.nth(i)
          const text = (await t.textContent()) ?? ''
          const m = await lineCount(t)
          expect(m.lines, `"${text}" (${text.length} characters)`).toBeLessThanOrEqual(2)
          expect(m.height, `"${text}" height against its line-height`).toBeLessThan(2.5 * m.lineHeight)
        }
      }

      // The picture shows the top of the list: story 2 with its details open.
      await list.evaluate((el) => el.scrollTo(0, 0))
      await page.evaluate(() => window.scrollTo(0, 0))
      await screenshot(page, testInfo, `main-${viewport.width}.png`)
    })
  })
}

test.describe('standalone pages on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 } })

  test('todo: a long todo does not make the page scroll sideways', async ({ page }, testInfo) => {
    await page.goto(sys.services.todo!.url)
    const row = await addTodo(page, LONG_WORD('https://example.com/standalone/'))
    await expectNoHorizontalOverflow(page)
    await expectInViewport(page, row.getByRole('button', { name: 'Remove' }), 'the todo\'s Remove button')
    await screenshot(page, testInfo, 'todo-standalone-390.png')
  })

  test('chat and news: no sideways scroll either', async ({ page }, testInfo) => {
    await page.goto(sys.services.chat!.url)
    await expect(page.locator('[data-dx-widget="chat"]')).toBeVisible()
    await expectNoHorizontalOverflow(page)
    await page.goto(sys.services.news!.url)
    await expect(page.locator('[data-dx-widget="news"] .news-story')).toHaveCount(5)
    await expectNoHorizontalOverflow(page)
    await screenshot(page, testInfo, 'news-standalone-390.png')
  })
})
