import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { fakeStory, startFakeHn, startSystem, type FakeHn, type System } from '@dx/testkit'
import { expect, test } from './fixtures.js'

const XSS = '<img src=x onerror=alert(1)>'

let fake: FakeHn
let sys: System
test.beforeAll(async () => {
  fake = await startFakeHn()
  fake.setStories([
    fakeStory(1, { title: 'A story about HTMX', url: 'https://www.htmx.org/essays/', kids: [100], descendants: 1 }),
    fakeStory(2, { title: 'A story with a script link', url: 'javascript:alert(1)' }),
    fakeStory(3, { title: XSS, by: XSS }),
    ...Array.from({ length: 12 }, (_, i) => fakeStory(i + 4)),
  ])
  fake.setItem(100, { id: 100, type: 'comment', by: 'commenter', text: 'Great <i>essay</i> &amp; well written', time: Math.floor(Date.now() / 1000) - 600 })
  sys = await startSystem({
    services: ['news'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-e2e-news-')),
    serviceEnv: { news: { NEWS_HN_URL: fake.url } },
  })
})
test.afterAll(async () => {
  await sys?.stop()
  await fake?.close()
})

const newsWidget = (page: Page) => page.locator('[data-dx-widget="news"]')
const row = (widget: Locator, id: number) => widget.locator(`.news-story[data-story-id="${id}"]`)

async function browseAndFavourite(page: Page) {
  const widget = newsWidget(page)
  await expect(widget.locator('.news-story')).toHaveCount(5)
  const first = row(widget, 1)
  await expect(first.getByRole('link', { name: 'A story about HTMX' })).toHaveAttribute('href', 'https://www.htmx.org/essays/')
  await expect(first).toContainText('(htmx.org)')
  await expect(first).toContainText('points by user1')
  await expect(first).toContainText('3 hours ago')
  await expect(first).toContainText('1 comment')

  await widget.getByRole('button', { name: 'Load more' }).click()
  await expect(widget.locator('.news-story')).toHaveCount(10)
  await expect(row(widget, 10)).toBeVisible()

  await first.locator('.news-details-toggle summary').click()
  await expect(first.locator('.news-detail')).toContainText('Great essay & well written')
  await expect(first.locator('.news-detail')).toContainText('commenter')
  await first.locator('.news-details-toggle summary').getByText('Hide').click()
  await expect(first.locator('.news-detail')).toBeHidden()

  const favorites = widget.locator('.news-favorites')
  await first.getByRole('button', { name: 'Favourite', exact: true }).click()
  await expect(favorites.locator('[data-favorite-id="1"]')).toContainText('A story about HTMX')
  await expect(first.getByRole('button', { name: 'Unfavourite', exact: true })).toBeVisible()

  await first.getByRole('button', { name: 'Unfavourite', exact: true }).click()
  await expect(favorites.locator('[data-favorite-id]')).toHaveCount(0)
  await expect(first.getByRole('button', { name: 'Favourite', exact: true })).toBeVisible()

  // Removing from the favourites list puts the story's own button back too.
  await row(widget, 4).getByRole('button', { name: 'Favourite', exact: true }).click()
  await favorites.locator('[data-favorite-id="4"]').getByRole('button', { name: 'Remove' }).click()
  await expect(favorites.locator('[data-favorite-id]')).toHaveCount(0)
  await expect(row(widget, 4).getByRole('button', { name: 'Favourite', exact: true })).toBeVisible()
}

test('main app: browse, load more, details, favourite and unfavourite without a reload', async ({ page }) => {
  await page.goto(sys.gateway.url)
  await expect(page.locator('#slot-news [data-dx-widget="news"]')).toBeVisible()
  await browseAndFavourite(page)
})

test('standalone page: the same, with the same layout', async ({ page }) => {
  await page.goto(sys.services.news!.url)
  await expect(page.locator('link[rel="stylesheet"][href^="/assets/app."][href$=".css"]')).toHaveCount(1)
  await browseAndFavourite(page)
})

test('a favourite survives a reload', async ({ page }) => {
  await page.goto(sys.gateway.url)
  const widget = newsWidget(page)
  await row(widget, 5).getByRole('button', { name: 'Favourite', exact: true }).click()
  await expect(widget.locator('.news-favorites [data-favorite-id="5"]')).toBeVisible()
  await page.reload()
  await expect(widget.locator('.news-favorites [data-favorite-id="5"]')).toBeVisible()
  await expect(row(widget, 5).getByRole('button', { name: 'Unfavourite', exact: true })).toBeVisible()
  await row(widget, 5).getByRole('button', { name: 'Unfavourite', exact: true }).click()
  await expect(widget.locator('.news-favorites [data-favorite-id]')).toHaveCount(0)
})

test('a story with a javascript: URL is not a link', async ({ page }) => {
  await page.goto(sys.gateway.url)
  const story = row(newsWidget(page), 2)
  await expect(story.locator('.news-title')).toHaveText('A story with a script link')
  await expect(story.getByRole('link', { name: 'A story with a script link' })).toHaveCount(0)
  await expect(page.locator('a[href^="javascript:" i]')).toHaveCount(0)
})

test('a title and author like an XSS payload show as text and open no dialog', async ({ page }) => {
  let dialogs = 0
  page.on('dialog', (d) => {
    dialogs++
    void d.dismiss()
  })
  await page.goto(sys.gateway.url)
  const story = row(newsWidget(page), 3)
  await expect(story.locator('.news-title')).toHaveText(XSS)
  await expect(story.locator('.news-by')).toHaveText(XSS)
  await expect(newsWidget(page).locator('img')).toHaveCount(0)
  await story.getByRole('button', { name: 'Favourite', exact: true }).click()
  await expect(newsWidget(page).locator('.news-favorites [data-favorite-id="3"]')).toContainText(XSS)
  await expect(newsWidget(page).locator('img')).toHaveCount(0)
  expect(dialogs).toBe(0)
})

test('Hacker News unreachable and nothing cached: the offline sample, labelled, still usable', async ({ page }) => {
  await fake.down()
  try {
    // A restart empties the in-process cache.
    await sys.services.news!.stop()
    await sys.services.news!.start()
    await page.goto(sys.gateway.url)
    const widget = newsWidget(page)
    await expect(widget.getByText('offline sample', { exact: true })).toBeVisible()
    await expect(widget.locator('.news-story')).toHaveCount(5)
    await expect(page.getByText('News is unavailable')).toHaveCount(0)
    await widget.getByRole('button', { name: 'Load more' }).click()
    await expect(widget.locator('.news-story')).toHaveCount(10)
    const first = widget.locator('.news-story').first()
    const id = await first.getAttribute('data-story-id')
    await first.locator('.news-details-toggle summary').click()
    await expect(first.locator('.news-detail')).toContainText('From the offline sample')
    await first.getByRole('button', { name: 'Favourite', exact: true }).click()
    await expect(first.getByRole('button', { name: 'Unfavourite', exact: true })).toBeVisible()
    await expect(widget.locator(`.news-favorites [data-favorite-id="${id}"]`)).toBeVisible()
  } finally {
    await fake.up()
  }
})
