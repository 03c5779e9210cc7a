// Pictures of every page at desktop and phone width, attached to the test report
// (e2e/playwright-report/index.html) so a change of look can be seen without running anything.
// DX_SCREENSHOT_DIR=dir also writes them there as files, by name.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page, TestInfo } from '@playwright/test'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let fake: FakeHn
let sys: System
test.beforeAll(async () => {
  fake = await startFakeHn()
  fake.setStories(
    Array.from({ length: 12 }, (_, i) =>
      fakeStory(i + 1, i === 0 ? { title: 'Show HN: A micro-frontend gateway for HTMX', kids: [100], descendants: 1 } : {}),
    ),
  )
  fake.setItem(100, { id: 100, type: 'comment', by: 'commenter', text: 'Looks neat.', time: Math.floor(Date.now() / 1000) - 600 })
  sys = await startSystem({
    services: ['todo', 'chat', 'news'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-shots-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
})
test.afterAll(async () => {
  await sys?.stop()
  await fake?.close()
})

async function attach(page: Page, testInfo: TestInfo, name: string) {
  // Nothing mid-transition or mid-load in the picture.
  await page.evaluate(() => document.fonts.ready)
  await expect(page.locator('.htmx-request')).toHaveCount(0)
  // Playwright hides the caret with an inline <style>, which the pages' CSP refuses (and the
  // fixture fails the test on): no focus, so no caret, and the style is not asked for.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  const body = await page.screenshot({ fullPage: true, caret: 'initial' })
  await testInfo.attach(name, { body, contentType: 'image/png' })
  const dir = process.env.DX_SCREENSHOT_DIR
  if (dir) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, name), body)
  }
}

/** Widgets in a page that are loaded (not the slot's placeholder, nor a fallback). */
async function widgetsLoaded(page: Page, names: string[]) {
  for (const name of names) await expect(page.locator(`[data-dx-widget="${name}"]`)).toBeVisible()
  await expect(page.locator('.dx-fallback, .dx-stale')).toHaveCount(0)
  if (names.includes('news')) await expect(page.locator('[data-dx-widget="news"] .news-story')).toHaveCount(5)
}

async function joinChat(page: Page, nick: string) {
  const chat = page.locator('[data-dx-widget="chat"]')
  await chat.getByLabel('Nickname').fill(nick)
  await chat.getByLabel('Room').fill('lobby')
  await chat.getByRole('button', { name: 'Join' }).click()
  await expect(chat.locator('.chat-status')).toHaveText('connected')
  await chat.getByLabel('Message').fill(`Hello from ${nick}`)
  await chat.getByRole('button', { name: 'Send' }).click()
  await expect(chat.locator('.chat-message', { hasText: `Hello from ${nick}` })).toBeVisible()
}

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  test.describe(`${viewport.width} px wide`, () => {
    test.use({ viewport })

    test('main app', async ({ page }, testInfo) => {
      await page.goto(sys.gateway.url)
      await widgetsLoaded(page, ['todo', 'chat', 'news'])
      await attach(page, testInfo, `main-${viewport.width}-first-visit.png`)

      const todo = page.locator('[data-dx-widget="todo"]')
      await todo.getByLabel('New todo').fill(`Water the plants (${viewport.width})`)
      await todo.getByRole('button', { name: 'Add' }).click()
      await expect(todo.locator('.todo-text', { hasText: `Water the plants (${viewport.width})` })).toBeVisible()
      await joinChat(page, `ana${viewport.width}`)
      const story = page.locator('[data-dx-widget="news"] .news-story[data-story-id="1"]')
      await story.locator(".news-details-toggle summary").click()
      await expect(story.locator('.news-detail')).toContainText('Looks neat.')
      await attach(page, testInfo, `main-${viewport.width}-in-use.png`)
    })

    test('todo standalone', async ({ page }, testInfo) => {
      await page.goto(sys.services.todo!.url)
      await widgetsLoaded(page, ['todo'])
      await attach(page, testInfo, `todo-standalone-${viewport.width}.png`)
    })

    test('chat standalone', async ({ page }, testInfo) => {
      await page.goto(sys.services.chat!.url)
      await widgetsLoaded(page, ['chat'])
      await attach(page, testInfo, `chat-standalone-${viewport.width}-join.png`)
      await joinChat(page, `bo${viewport.width}`)
      await attach(page, testInfo, `chat-standalone-${viewport.width}-room.png`)
    })

    test('news standalone', async ({ page }, testInfo) => {
      await page.goto(sys.services.news!.url)
      await widgetsLoaded(page, ['news'])
      await attach(page, testInfo, `news-standalone-${viewport.width}.png`)
    })

    test('todo down: its place in the main app, and the error page of a link to it', async ({ page }, testInfo) => {
      await page.goto(sys.gateway.url)
      await widgetsLoaded(page, ['todo', 'chat', 'news'])
      await sys.services.todo!.stop()
      try {
        await page.reload()
        // The last good copy when the gateway kept one, else the fallback.
        await expect(page.locator('#slot-todo').getByText('Todo is unavailable right now')).toBeVisible()
        await attach(page, testInfo, `main-${viewport.width}-todo-down.png`)
        const res = await page.goto(`${sys.gateway.url}/todo`)
        expect(res?.status()).toBeGreaterThanOrEqual(500)
        await expect(page.getByRole('heading', { name: 'Todo is unavailable right now' })).toBeVisible()
        await attach(page, testInfo, `error-page-${viewport.width}.png`)
      } finally {
        await sys.services.todo!.start()
      }
    })
  })
}
