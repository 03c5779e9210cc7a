import { test as base, type Browser, type BrowserContext, type Page } from '@playwright/test'

export { expect } from '@playwright/test'

/**
 * Fails a test whose pages broke the Content Security Policy (an inline style htmx
 * injected, an eval, a script or connection from elsewhere) or threw an uncaught error.
 * Such a page may still pass its other checks while a real browser shows it half working.
 */
export const test = base.extend<{ pageProblems: void }>({
  pageProblems: [
    async ({ browser, context }, use) => {
      const problems: string[] = []
      const watchPage = (page: Page) => {
        page.on('console', (m) => {
          if (m.text().includes('Content Security Policy')) problems.push(`${page.url()}: ${m.text()}`)
        })
        page.on('pageerror', (e) => problems.push(`${page.url()}: uncaught ${e.name}: ${e.message}`))
      }
      const watch = (ctx: BrowserContext) => {
        ctx.pages().forEach(watchPage)
        ctx.on('page', watchPage)
      }
      watch(context)
      // Tests that open their own contexts (two users side by side) are watched too.
      const restore = watchNewContexts(browser, watch)
      try {
        await use()
      } finally {
        restore()
      }
      if (problems.length > 0) throw new Error(`the pages reported ${problems.length} problem(s):\n${problems.join('\n')}`)
    },
    { auto: true },
  ],
})

function watchNewContexts(browser: Browser, watch: (ctx: BrowserContext) => void) {
  const original = browser.newContext
  browser.newContext = async (...args) => {
    const ctx = await original.apply(browser, args)
    watch(ctx)
    return ctx
  }
  return () => {
    browser.newContext = original
  }
}
