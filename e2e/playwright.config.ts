import { defineConfig } from '@playwright/test'

// Debian's Chromium, never a downloaded browser. The background-networking flags keep it
// from dialling out on a machine with no internet.
export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  // The html report keeps what tests attach (the screenshots of screenshots.spec.ts and
  // layout.spec.ts): open e2e/playwright-report/index.html after a run. Git ignores it.
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    headless: true,
    launchOptions: {
      executablePath: process.env.DX_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    },
    trace: 'off',
  },
})
