// Cross-service events as a user sees them: a todo or a favourite shows up in chat, and
// every open window, main app or standalone, stays in step without a reload.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let fake: FakeHn
let sys: System
test.beforeAll(async () => {
  fake = await startFakeHn()
  fake.setStories([fakeStory(1, { title: 'Events across services' }), ...Array.from({ length: 6 }, (_, i) => fakeStory(i + 2))])
  sys = await startSystem({
    services: ['todo', 'chat', 'news'],
    dataDir: mkdtempSync(joinPath(tmpdir(), 'dx-e2e-events-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
})
test.afterAll(async () => {
  await sys?.stop()
  await fake?.close()
})

/** A page in a browser context of its own: its own cookies, as another person would have. */
async function person(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(url)
  return page
}

async function joinLobby(page: Page, nick: string) {
  const chat = page.locator('[data-dx-widget="chat"]')
  await chat.getByLabel('Nickname').fill(nick)
  await chat.getByLabel('Room').fill('lobby')
  await chat.getByRole('button', { name: 'Join' }).click()
  await expect(chat.locator('.chat-status')).toHaveText('connected')
  return chat
}

async function addTodo(page: Page, text: string) {
  const todo = page.locator('[data-dx-widget="todo"]')
  await todo.getByLabel('New todo').fill(text)
  await todo.getByRole('button', { name: 'Add' }).click()
  await expect(todo.locator('.todo-text', { hasText: text })).toBeVisible()
}

test('a todo added by ana shows in the lobby, for her and for everyone there', async ({ browser }) => {
  const ana = await person(browser, sys.gateway.url)
  const bo = await person(browser, sys.gateway.url)
  const anaChat = await joinLobby(ana, 'ana')
  const boChat = await joinLobby(bo, 'bo')

  await addTodo(ana, 'buy milk')
  await expect(anaChat.locator('#chat-messages')).toContainText('ana added a todo: buy milk')
  await expect(boChat.locator('#chat-messages')).toContainText('ana added a todo: buy milk')
  // bo's todo list caught up on its own.
  await expect(bo.locator('[data-dx-widget="todo"] .todo-text', { hasText: 'buy milk' })).toBeVisible()
})

test('someone who never joined chat is "someone"', async ({ browser }) => {
  const watcher = await person(browser, sys.gateway.url)
  const watcherChat = await joinLobby(watcher, 'cy')
  const anon = await person(browser, sys.gateway.url)
  await addTodo(anon, 'water plants')
  await expect(watcherChat.locator('#chat-messages')).toContainText('someone added a todo: water plants')
})

test('favouriting a story posts to chat and refreshes the favourites in every window', async ({ browser }) => {
  const ana = await person(browser, sys.gateway.url)
  const other = await person(browser, sys.gateway.url)
  const anaChat = await joinLobby(ana, 'ana2')
  const story = ana.locator('[data-dx-widget="news"] .news-story[data-story-id="1"]')
  await story.getByRole('button', { name: 'Favourite' }).click()
  await expect(anaChat.locator('#chat-messages')).toContainText('ana2 favourited: Events across services')
  await expect(ana.locator('#news-favorites')).toContainText('Events across services')
  await expect(other.locator('#news-favorites')).toContainText('Events across services')
})

test('the main app and the standalone todo page stay in step both ways, without a reload', async ({ browser }) => {
  const main = await person(browser, sys.gateway.url)
  const solo = await person(browser, sys.services.todo!.url)
  await expect(solo.locator('[data-dx-widget="todo"]')).toBeVisible()

  await addTodo(solo, 'from the standalone page')
  await expect(main.locator('[data-dx-widget="todo"] .todo-text', { hasText: 'from the standalone page' })).toBeVisible()

  await addTodo(main, 'from the main app')
  await expect(solo.locator('[data-dx-widget="todo"] .todo-text', { hasText: 'from the main app' })).toBeVisible()

  // Done and removed travel too.
  const row = (p: Page) => p.locator('[data-dx-widget="todo"] li', { hasText: 'from the main app' })
  await row(solo).getByRole('button', { name: 'Done' }).click()
  await expect(row(main).locator('.todo-text')).toHaveClass(/line-through/)
  await row(main).getByRole('button', { name: 'Remove' }).click()
  await expect(row(solo)).toHaveCount(0)
})

test("a page's own change is fetched once: the relayed copy of its own event is not acted on again", async ({ browser }) => {
  const page = await person(browser, sys.gateway.url)
  await expect(page.locator('[data-dx-widget="todo"]')).toBeVisible()
  const todoRequests: string[] = []
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/todo')) todoRequests.push(`${r.method()} ${new URL(r.url()).pathname}`)
  })
  await addTodo(page, 'once only')
  // Long enough for the relayed event to come back over the stream.
  await page.waitForTimeout(1500)
  expect(todoRequests).toEqual(['POST /todo/items'])
})
