import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { startSystem, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let sys: System
test.beforeAll(async () => {
  sys = await startSystem({ services: ['todo'], dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-todo-')) })
})
test.afterAll(async () => {
  await sys?.stop()
})

async function addCompleteUndoRemove(page: Page, text: string) {
  const widget = page.locator('[data-dx-widget="todo"]')
  await widget.getByLabel('New todo').fill(text)
  await widget.getByRole('button', { name: 'Add' }).click()
  const row = widget.locator('li', { hasText: text })
  await expect(row).toBeVisible()
  await expect(widget.getByLabel('New todo')).toHaveValue('')

  await row.getByRole('button', { name: 'Done' }).click()
  await expect(row.locator('.todo-text')).toHaveClass(/line-through/)
  await row.getByRole('button', { name: 'Undo' }).click()
  await expect(row.locator('.todo-text')).not.toHaveClass(/line-through/)

  await row.getByRole('button', { name: 'Remove' }).click()
  await expect(widget.locator('li', { hasText: text })).toHaveCount(0)
}

test('main app: add, complete, undo and remove a todo', async ({ page }) => {
  await page.goto(sys.gateway.url)
  await expect(page.locator('header')).toContainText('distributex')
  await expect(page.locator('#slot-todo [data-dx-widget="todo"]')).toBeVisible()
  await addCompleteUndoRemove(page, 'Water the plants')
})

test('standalone page: the same, with the same layout and CSS', async ({ page }) => {
  await page.goto(sys.services.todo!.url)
  await expect(page.locator('link[rel="stylesheet"][href^="/assets/app."][href$=".css"]')).toHaveCount(1)
  // Tailwind is applied: the body gets the layout's background colour
  await expect(page.locator('body')).toHaveCSS('background-color', /rgb|oklch/)
  await addCompleteUndoRemove(page, 'Standalone todo')
})

test('an empty todo shows the message and a too long one keeps what was typed', async ({ page }) => {
  await page.goto(sys.gateway.url)
  const widget = page.locator('[data-dx-widget="todo"]')
  await widget.getByRole('button', { name: 'Add' }).click()
  await expect(widget.getByRole('alert').filter({ hasText: 'Write something' })).toBeVisible()
  const long = 'z'.repeat(501)
  await widget.getByLabel('New todo').fill(long)
  await widget.getByRole('button', { name: 'Add' }).click()
  await expect(widget.getByText('at most 500')).toBeVisible()
  await expect(widget.getByLabel('New todo')).toHaveValue(long)
})

test('a todo named like an XSS payload shows as text and opens no dialog', async ({ page }) => {
  let dialogs = 0
  page.on('dialog', (d) => {
    dialogs++
    void d.dismiss()
  })
  await page.goto(sys.gateway.url)
  const payload = '<img src=x onerror=alert(1)>'
  const widget = page.locator('[data-dx-widget="todo"]')
  await widget.getByLabel('New todo').fill(payload)
  await widget.getByRole('button', { name: 'Add' }).click()
  await expect(widget.locator('.todo-text', { hasText: payload })).toBeVisible()
  await expect(widget.locator('img')).toHaveCount(0)
  await page.reload()
  await expect(widget.locator('.todo-text', { hasText: payload })).toBeVisible()
  expect(dialogs).toBe(0)
})

test('todo down: its slot shows the fallback, the page keeps working, and it comes back without a reload', async ({ page }) => {
  await page.goto(sys.gateway.url)
  const slot = page.locator('#slot-todo')
  await expect(slot.locator('[data-dx-widget="todo"]')).toBeVisible()

  await sys.services.todo!.stop()
  // A write while it is down: a visible error, and the form keeps the text.
  await slot.getByLabel('New todo').fill('written while down')
  await slot.getByRole('button', { name: 'Add' }).click()
  await expect(slot.locator('.dx-error')).toContainText('not saved')
  await expect(slot.getByLabel('New todo')).toHaveValue('written while down')

  // A reload while it is down: the last good copy, marked stale, in the slot (the fallback
  // when there is none); the rest of the page is there.
  await page.reload()
  await expect(slot.getByText(/^Todo is unavailable right now/)).toBeVisible()
  await expect(page.locator('header')).toContainText('distributex')
  await expect(page.locator('#slot-chat')).toBeVisible()

  await sys.services.todo!.start()
  await expect(slot.locator('[data-dx-widget="todo"]')).toBeVisible({ timeout: 15_000 })
  await expect(slot.getByText('Todo is unavailable right now')).toHaveCount(0)
  await slot.getByLabel('New todo').fill('after recovery')
  await slot.getByRole('button', { name: 'Add' }).click()
  await expect(slot.locator('li', { hasText: 'after recovery' })).toBeVisible()
})
