// `make watch` in a temporary copy of the repository: an edited template shows in the
// pages that show it without a manual reload, the other processes (and their WebSockets)
// keep running, and a CSS change swaps the stylesheet without a reload.
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { freePort, root } from '@dx/testkit'
import { expect, test } from './fixtures.js'

// What the running processes read; tests, benchmarks, data and build output stay behind.
const SKIP = new Set(['.dx', '.git', 'data', 'test', 'bench', 'dist'])

function copyTree(from: string, to: string) {
  mkdirSync(to, { recursive: true })
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const a = join(from, e.name)
    const b = join(to, e.name)
    if (e.name === 'node_modules') symlinkSync(a, b) // a workspace's own dependencies
    else if (SKIP.has(e.name)) continue
    else if (e.isDirectory()) copyTree(a, b)
    else if (e.isFile()) copyFileSync(a, b)
  }
}

/** The repository's sources in `dest`, sharing the installed packages; @dx/* point at the copy. */
function copyRepo(dest: string) {
  mkdirSync(dest, { recursive: true })
  for (const f of ['package.json', 'tsconfig.json']) copyFileSync(join(root, f), join(dest, f))
  for (const d of ['scripts', 'packages', 'apps', 'gateway', 'services']) copyTree(join(root, d), join(dest, d))
  mkdirSync(join(dest, 'node_modules'))
  for (const e of readdirSync(join(root, 'node_modules'))) {
    const from = join(root, 'node_modules', e)
    if (e === '@dx') cpSync(from, join(dest, 'node_modules', e), { recursive: true, verbatimSymlinks: true })
    else symlinkSync(from, join(dest, 'node_modules', e))
  }
}

// The developer's own settings must not leak in: the test chooses every port and path.
const dropped = /^(PORT|HOST|GATEWAY_PORT|[A-Z_]+_(PORT|URL|STANDALONE_URL|DB)|DX_.*|NEWS_HN_.*)$/

let dir: string
let runner: ChildProcess | undefined
let out = ''
const ports = { gateway: 0, todo: 0, chat: 0, news: 0, dev: 0 }
const url = (name: keyof typeof ports) => `http://localhost:${ports[name]}`

async function waitForOutput(re: RegExp, ms: number) {
  for (const end = Date.now() + ms; !re.test(out); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > end || runner?.exitCode !== null) throw new Error(`no ${re} from the runner; its output:\n${out}`)
  }
}

test.beforeAll(async () => {
  test.setTimeout(240_000)
  dir = mkdtempSync(join(tmpdir(), 'dx-e2e-watch-'))
  const repo = join(dir, 'repo')
  copyRepo(repo)
  const used = new Set<number>()
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) {
    let p = await freePort()
    while (used.has(p)) p = await freePort()
    used.add(p)
    ports[k] = p
  }
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !dropped.test(k)) env[k] = v
  Object.assign(env, {
    GATEWAY_PORT: String(ports.gateway),
    TODO_PORT: String(ports.todo),
    CHAT_PORT: String(ports.chat),
    NEWS_PORT: String(ports.news),
    DX_DEV_PORT: String(ports.dev),
    DX_RUN_DIR: join(dir, 'run'),
    TODO_DB: join(dir, 'todo.db'),
    CHAT_DB: join(dir, 'chat.db'),
    NEWS_DB: join(dir, 'news.db'),
    NEWS_HN_URL: `http://127.0.0.1:${await freePort()}/v0`,
    DX_PYTHON: '', // only the TypeScript parts: the copy is small and the machine busy
  })
  runner = spawn(process.execPath, ['--import', 'tsx', 'scripts/run.ts', '--watch'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] })
  runner.stdout!.on('data', (d) => (out += d))
  runner.stderr!.on('data', (d) => (out += d))
  await waitForOutput(/distributex is up, watching for changes/, 200_000)
})

test.afterAll(async () => {
  test.setTimeout(60_000)
  if (runner && runner.exitCode === null && runner.signalCode === null) {
    const exited = new Promise((r) => runner!.once('exit', r))
    runner.kill('SIGTERM')
    const timer = setTimeout(() => runner!.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
  }
  // Whatever a failed run left behind, and only that: pids are reused, so a pid counts as
  // a part of this run only while its process still works in the temporary copy.
  for (const m of out.matchAll(/\w+ started \(pid (\d+)\)/g)) {
    try {
      if (readlinkSync(`/proc/${m[1]}/cwd`).startsWith(dir)) process.kill(Number(m[1]), 'SIGKILL')
    } catch {
      // gone
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/**
 * Pages of one origin following the reload stream (one of them reads it, the others hear it
 * from that one), each with a marker that a reload would wipe out.
 */
async function ready(pages: Page[], marker: string) {
  const state = (page: Page) => page.locator('html').getAttribute('data-dx-dev')
  for (const page of pages) await expect(page.locator('html')).toHaveAttribute('data-dx-dev', /^(connected|shared)$/)
  await expect.poll(async () => (await Promise.all(pages.map(state))).includes('connected')).toBe(true)
  for (const page of pages) await page.evaluate((m) => ((window as unknown as { dxMarker: string }).dxMarker = m), marker)
}
const markerOf = (page: Page) => page.evaluate(() => (window as unknown as { dxMarker?: string }).dxMarker)
const starts = (name: string) => [...out.matchAll(new RegExp(`^\\S*dx\\S* +\\| ${name} started \\(pid`, 'gm'))].length

test('make watch: an edited template reloads the pages that show it; a CSS change swaps the stylesheet in place', async ({ browser }) => {
  test.setTimeout(240_000)
  const ctx = await browser.newContext()
  const todo = await ctx.newPage()
  const todo2 = await ctx.newPage() // a second tab of the same origin shares the first one's stream
  const main = await ctx.newPage()
  const chat = await ctx.newPage()
  await todo.goto(url('todo'))
  await todo2.goto(url('todo'))
  await main.goto(url('gateway'))
  await chat.goto(url('chat'))
  const room = chat.locator('[data-dx-widget="chat"]')
  await room.getByLabel('Nickname').fill('dev')
  await room.getByLabel('Room').fill('watch')
  await room.getByRole('button', { name: 'Join' }).click()
  await expect(room.locator('.chat-status')).toHaveText('connected')
  for (const pages of [[todo, todo2], [main], [chat]]) await ready(pages, 'before')
  await expect(todo.locator('#todo-text')).toHaveAttribute('placeholder', 'What needs doing?')
  await expect(main.locator('#todo-text')).toHaveAttribute('placeholder', 'What needs doing?')

  await test.step('a todo template edit: todo restarts alone, its pages reload and show it', async () => {
    const views = join(dir, 'repo/services/todo/src/views.ts')
    const before = readFileSync(views, 'utf8')
    expect(before).toContain('placeholder="What needs doing?"')
    writeFileSync(views, before.replace('placeholder="What needs doing?"', 'placeholder="What needs doing, now?"'))
    await expect(todo.locator('#todo-text')).toHaveAttribute('placeholder', 'What needs doing, now?', { timeout: 120_000 })
    await expect(main.locator('#todo-text')).toHaveAttribute('placeholder', 'What needs doing, now?', { timeout: 30_000 })
    await expect(todo2.locator('#todo-text')).toHaveAttribute('placeholder', 'What needs doing, now?', { timeout: 30_000 })
    expect(await markerOf(todo), 'the todo page reloaded').toBeUndefined()
    expect(await markerOf(todo2), 'the second todo tab reloaded').toBeUndefined()
    expect(await markerOf(main), 'the main app reloaded').toBeUndefined()
    expect(starts('todo')).toBe(2)
    for (const other of ['chat', 'news', 'gateway']) expect(starts(other), `${other} kept running`).toBe(1)
  })

  await test.step('a CSS change: every page swaps the stylesheet, none reloads', async () => {
    await ready([todo, todo2], 'after')
    await ready([main], 'after')
    appendFileSync(join(dir, 'repo/packages/ui/src/app.css'), '\n:root { --dx-dev-probe: swapped; }\n')
    const probe = (page: Page) => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--dx-dev-probe').trim())
    for (const page of [todo, todo2, main, chat]) await expect.poll(() => probe(page), { timeout: 60_000 }).toBe('swapped')
    expect(await markerOf(todo)).toBe('after')
    expect(await markerOf(todo2)).toBe('after')
    expect(await markerOf(main)).toBe('after')
    // The chat page heard the todo reload before this (one stream, in order) and kept its
    // state: it was never reloaded, and its socket to chat stayed up.
    expect(await markerOf(chat)).toBe('before')
    await expect(room.locator('.chat-status')).toHaveText('connected')
    await expect(chat.locator('link[rel="stylesheet"]')).toHaveCount(1)
  })
  await ctx.close()
})
