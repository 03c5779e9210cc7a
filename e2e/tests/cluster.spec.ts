// Two people on the two gateways of a cluster (make start-cluster's 4040 and 4041; here
// the free ports the harness picked), on NATS and PostgreSQL: one page's todo shows on the
// other page, and they chat, whichever replicas their requests land on.
import type { Browser, Page } from '@playwright/test'
import { databaseTestUrl, natsTestUrl, needsNatsAndDatabase, startCluster, type Cluster } from '@dx/testkit'
import { expect, test } from './fixtures.js'

const skip = needsNatsAndDatabase()
// The list reporter shows a skipped test without its reason: say it once here.
if (skip) console.warn(`cluster.spec.ts skipped: ${skip}`)
test.skip(skip !== false, String(skip))

let c: Cluster
test.beforeAll(async () => {
  // Six processes on a shared machine: starting them takes longer than one test.
  test.setTimeout(120_000)
  c = await startCluster({ natsUrl: natsTestUrl(), databaseUrl: databaseTestUrl() })
})
test.afterAll(async () => {
  await c?.stop()
})

async function person(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(url)
  await expect(page.locator('[data-dx-widget="todo"]')).toBeVisible()
  return page
}

async function addTodo(page: Page, text: string) {
  const todo = page.locator('[data-dx-widget="todo"]')
  await todo.getByLabel('New todo').fill(text)
  await todo.getByRole('button', { name: 'Add' }).click()
  await expect(todo.locator('.todo-text', { hasText: text })).toBeVisible()
}

async function join(page: Page, nick: string, room: string) {
  const chat = page.locator('[data-dx-widget="chat"]')
  await chat.getByLabel('Nickname').fill(nick)
  await chat.getByLabel('Room').fill(room)
  await chat.getByRole('button', { name: 'Join' }).click()
  await expect(chat.locator('.chat-status')).toHaveText('connected')
  return chat
}

async function say(chat: ReturnType<Page['locator']>, text: string) {
  await chat.getByLabel('Message').fill(text)
  await chat.getByRole('button', { name: 'Send' }).click()
  await expect(chat.getByLabel('Message')).toHaveValue('')
}

test('a todo added on gateway A appears on gateway B, and back, without a reload', async ({ browser }) => {
  const a = await person(browser, c.gateways[0].url)
  const b = await person(browser, c.gateways[1].url)
  const onB = (text: string) => b.locator('[data-dx-widget="todo"] .todo-text', { hasText: text })
  const onA = (text: string) => a.locator('[data-dx-widget="todo"] .todo-text', { hasText: text })

  await addTodo(a, 'added on gateway A')
  await expect(onB('added on gateway A')).toBeVisible()
  await addTodo(b, 'added on gateway B')
  await expect(onA('added on gateway B')).toBeVisible()
  // A reload of either page reads the same rows, whichever todo replica answers.
  await b.reload()
  await expect(onB('added on gateway A')).toBeVisible()
  await expect(onB('added on gateway B')).toBeVisible()
})

test('chat across the gateways: messages both ways, and todos announced on both', async ({ browser }) => {
  const a = await person(browser, c.gateways[0].url)
  const b = await person(browser, c.gateways[1].url)
  const chatA = await join(a, 'ana', 'lobby')
  const chatB = await join(b, 'bo', 'lobby')

  await say(chatA, 'hello from gateway A')
  await expect(chatB.locator('.chat-message', { hasText: 'hello from gateway A' })).toContainText('ana')
  await say(chatB, 'hello from gateway B')
  await expect(chatA.locator('.chat-message', { hasText: 'hello from gateway B' })).toContainText('bo')

  await addTodo(b, 'announced across')
  await expect(chatA.locator('#chat-messages')).toContainText('bo added a todo: announced across')
  await expect(chatB.locator('#chat-messages')).toContainText('bo added a todo: announced across')
})
