import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import type { Page } from '@playwright/test'
import { startSystem, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let sys: System
test.beforeAll(async () => {
  sys = await startSystem({ services: ['chat'], dataDir: mkdtempSync(joinPath(tmpdir(), 'dx-e2e-chat-')) })
})
test.afterAll(async () => {
  await sys?.stop()
})

async function join(page: Page, url: string, nick: string, room: string) {
  await page.goto(url)
  const widget = page.locator('[data-dx-widget="chat"]')
  await widget.getByLabel('Nickname').fill(nick)
  await widget.getByLabel('Room').fill(room)
  await widget.getByRole('button', { name: 'Join' }).click()
  await expect(widget.locator('.chat-status')).toHaveText('connected')
  return widget
}

async function say(widget: ReturnType<Page['locator']>, text: string) {
  await widget.getByLabel('Message').fill(text)
  await widget.getByRole('button', { name: 'Send' }).click()
  await expect(widget.getByLabel('Message')).toHaveValue('')
}

test('the main app and the standalone page chat with each other, live', async ({ browser }) => {
  const main = await (await browser.newContext()).newPage()
  const solo = await (await browser.newContext()).newPage()
  const a = await join(main, sys.gateway.url, 'ann', 'e2e')
  const b = await join(solo, sys.services.chat!.url, 'ben', 'e2e')

  await expect(a.locator('#chat-members')).toContainText('ben')
  await expect(a.locator('#chat-messages')).toContainText('ben joined')
  await expect(b.locator('.chat-room-link', { hasText: '#e2e' })).toContainText('e2e')

  await say(a, 'hello from the main app')
  await expect(b.locator('.chat-message', { hasText: 'hello from the main app' })).toContainText('ann')
  await say(b, 'hello from standalone')
  await expect(a.locator('.chat-message', { hasText: 'hello from standalone' })).toContainText('ben')

  // the same nickname in the same room is refused with a message
  const third = await (await browser.newContext()).newPage()
  await third.goto(sys.gateway.url)
  const w = third.locator('[data-dx-widget="chat"]')
  await w.getByLabel('Nickname').fill('ANN')
  await w.getByLabel('Room').fill('e2e')
  await w.getByRole('button', { name: 'Join' }).click()
  await expect(w.getByRole('alert').filter({ hasText: 'nickname is taken here' })).toBeVisible()
  await expect(w.getByLabel('Nickname')).toHaveValue('ANN')

  await main.getByRole('button', { name: 'Leave' }).click()
  await expect(b.locator('#chat-messages')).toContainText('ann left')
  await expect(b.locator('#chat-members')).not.toContainText('ann')
})

test('an XSS message shows as text and opens no dialog', async ({ page }) => {
  let dialogs = 0
  page.on('dialog', (d) => {
    dialogs++
    void d.dismiss()
  })
  const w = await join(page, sys.gateway.url, 'x.s-s_1', 'xss')
  const payload = '<img src=x onerror=alert(1)><script>alert(2)</script>'
  await say(w, payload)
  await expect(w.locator('.chat-text', { hasText: payload })).toBeVisible()
  await expect(w.locator('#chat-messages img')).toHaveCount(0)
  // a nickname with markup never gets that far: it is refused, and shown as typed
  await page.goto(sys.gateway.url)
  const form = page.locator('[data-dx-widget="chat"]')
  await form.locator('input[name="nick"]').evaluate((i: HTMLInputElement) => i.removeAttribute('pattern'))
  await form.getByLabel('Nickname').fill('<b>bold</b>')
  await form.getByRole('button', { name: 'Join' }).click()
  await expect(form.getByRole('alert').filter({ hasText: 'may only use letters' })).toBeVisible()
  await expect(form.getByLabel('Nickname')).toHaveValue('<b>bold</b>')
  await expect(form.locator('b', { hasText: 'bold' })).toHaveCount(0)
  expect(dialogs).toBe(0)
})

test('chat restarts: the page reconnects on its own and a new message goes through', async ({ browser }) => {
  const main = await (await browser.newContext()).newPage()
  const solo = await (await browser.newContext()).newPage()
  const a = await join(main, sys.gateway.url, 'cat', 'restart')
  const b = await join(solo, sys.services.chat!.url, 'dan', 'restart')
  await say(a, 'before the restart')
  await expect(b.locator('.chat-message', { hasText: 'before the restart' })).toBeVisible()

  await sys.services.chat!.stop()
  await expect(a.locator('.chat-status')).toHaveText('reconnecting…')
  await sys.services.chat!.start()
  await expect(a.locator('.chat-status')).toHaveText('connected', { timeout: 15_000 })
  await expect(b.locator('.chat-status')).toHaveText('connected', { timeout: 15_000 })
  // history came back with the room, and the nickname is the same
  await expect(a.locator('.chat-message', { hasText: 'before the restart' })).toHaveCount(1)
  await expect(a.locator('.chat-nick')).toHaveText('cat')

  await say(b, 'after the restart')
  await expect(a.locator('.chat-message', { hasText: 'after the restart' })).toContainText('dan')
  await expect(a.locator('#chat-members')).toContainText('dan')
})
