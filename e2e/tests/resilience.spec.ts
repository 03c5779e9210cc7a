// A service killed while the main app is open: its widget shows the last good copy with
// changes off, the status page turns red, and both recover on their own when it returns.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSystem, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

let sys: System
test.beforeAll(async () => {
  sys = await startSystem({ services: ['todo'], dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-resilience-')) })
})
test.afterAll(async () => {
  await sys?.stop()
})

test('todo goes down and comes back: stale copy with writes off, status page red then green', async ({ browser }) => {
  const app = await (await browser.newContext()).newPage()
  await app.goto(sys.gateway.url)
  const slot = app.locator('#slot-todo')
  await slot.getByLabel('New todo').fill('kept while down')
  await slot.getByRole('button', { name: 'Add' }).click()
  await expect(slot.locator('.todo-text', { hasText: 'kept while down' })).toBeVisible()
  // The widget as loaded now is the copy the gateway keeps.
  await app.reload()
  await expect(slot.locator('.todo-text', { hasText: 'kept while down' })).toBeVisible()

  const status = await (await browser.newContext()).newPage()
  await status.goto(`${sys.gateway.url}/_dx/status`)
  const todoCard = status.locator('[data-service="todo"]')
  await expect(todoCard).toHaveAttribute('data-tone', 'green', { timeout: 15_000 })

  await sys.services.todo!.stop()
  await expect(todoCard).toHaveAttribute('data-tone', 'red', { timeout: 15_000 })
  await expect(todoCard).toContainText('down')

  await app.reload()
  await expect(slot.locator('.dx-stale-banner')).toContainText('Todo is unavailable right now. This is a saved copy from')
  await expect(slot.locator('.todo-text', { hasText: 'kept while down' })).toBeVisible()
  await expect(slot.getByRole('button', { name: 'Add' })).toBeDisabled()
  await expect(slot.locator('.dx-stale-banner')).toContainText('changes are off until Todo is back')

  await sys.services.todo!.start()
  await expect(todoCard).toHaveAttribute('data-tone', 'green', { timeout: 15_000 })
  await expect(slot.locator('.dx-stale-banner')).toHaveCount(0, { timeout: 15_000 })
  await expect(slot.getByRole('button', { name: 'Add' })).toBeEnabled()
})
