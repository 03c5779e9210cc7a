// `make start` end to end: scripts/run.ts with real processes on free ports, its pid file
// and data in a temp folder, news pointed at a closed port so it never reaches the network.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, root } from '@dx/testkit'
import { portProblem } from '../lib/net.js'
import { alive } from '../lib/process.js'

type Ports = { gateway: number; todo: number; chat: number; news: number }

/** The developer's own settings must not leak in: a test chooses every port and path itself. */
const dropped = /^(PORT|HOST|GATEWAY_PORT|[A-Z]+_(PORT|URL|STANDALONE_URL|DB)|DX_.*|NEWS_HN_.*)$/

async function setup(t: TestContext, extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dx-run-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const used = new Set<number>()
  const port = async () => {
    for (;;) {
      const p = await freePort()
      if (!used.has(p)) return used.add(p), p
    }
  }
  const ports: Ports = { gateway: await port(), todo: await port(), chat: await port(), news: await port() }
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !dropped.test(k)) env[k] = v
  Object.assign(env, {
    GATEWAY_PORT: String(ports.gateway),
    TODO_PORT: String(ports.todo),
    CHAT_PORT: String(ports.chat),
    NEWS_PORT: String(ports.news),
    DX_RUN_DIR: dir,
    TODO_DB: join(dir, 'todo.db'),
    CHAT_DB: join(dir, 'chat.db'),
    NEWS_DB: join(dir, 'news.db'),
    NEWS_HN_URL: `http://127.0.0.1:${await port()}/v0`,
    // The optional Python clock is not part of these runs (examples/python-clock tests it).
    DX_PYTHON: '',
    ...extra,
  })
  return { dir, ports, env }
}

/** scripts/run.ts as `make start` runs it, with its output kept for the assertions. */
class Runner {
  out = ''
  err = ''
  readonly child: ChildProcess
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  constructor(env: Record<string, string>, args: string[] = []) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'scripts/run.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout!.on('data', (d) => (this.out += d))
    this.child.stderr!.on('data', (d) => (this.err += d))
    this.exit = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })))
  }

  async waitFor(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    for (const end = Date.now() + ms; ; await sleep(50)) {
      const m = re.exec(this.out + this.err)
      if (m) return m
      if (Date.now() > end || this.child.exitCode !== null) {
        throw new Error(`no ${re} after ${ms} ms; output:\n${this.out}\n${this.err}`)
      }
    }
  }

  async exited(ms: number) {
    const done = new AbortController()
    const timeout = sleep(ms, undefined, { signal: done.signal }).then(() => {
      throw new Error(`run.ts still running after ${ms} ms; output:\n${this.out}\n${this.err}`)
    })
    timeout.catch(() => {}) // aborted once the runner has exited
    return Promise.race([this.exit, timeout]).finally(() => done.abort())
  }

  /** The pids of the parts, as the runner logged them. */
  pids(): Map<string, number> {
    return new Map([...this.out.matchAll(/(\w+) started \(pid (\d+)\)/g)].map((m) => [m[1], Number(m[2])]))
  }

  /** Stops the runner however the test ended, and every part it started. */
  async cleanup() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM')
      await this.exited(15_000).catch(() => this.child.kill('SIGKILL'))
    }
    for (const pid of this.pids().values()) if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
}

async function allFree(ports: number[]) {
  for (const p of ports) assert.equal(await portProblem(p, '127.0.0.1'), undefined, `port ${p} is still taken`)
}

test('make start: each part on its own port, the banner, the proxy, a killed part stays down, make stop', async (t) => {
  const { ports, env, dir } = await setup(t)
  const run = new Runner(env)
  t.after(() => run.cleanup())
  await run.waitFor(/distributex is up/)

  const gw = `http://localhost:${ports.gateway}`
  for (const [label, url] of [
    ['main app', gw],
    ['todo standalone', `http://localhost:${ports.todo}`],
    ['chat standalone', `http://localhost:${ports.chat}`],
    ['news standalone', `http://localhost:${ports.news}`],
    ['gateway health', `${gw}/healthz`],
  ]) {
    assert.match(run.out, new RegExp(`^  ${label} +${url.replace(/[.]/g, '\\.')}$`, 'm'), label)
  }
  assert.equal(readFileSync(join(dir, 'run.pid'), 'utf8'), String(run.child.pid))

  const page = await fetch(`http://127.0.0.1:${ports.gateway}/`)
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type') ?? '', /text\/html/)
  const html = await page.text()
  for (const name of ['todo', 'chat', 'news'] as const) {
    assert.ok(html.includes(`href="http://localhost:${ports[name]}"`), `the main page links to ${name} standalone on its port`)
  }
  // The gateway runs from its bundle (gateway/build.ts), which must still find the files it serves.
  const gatewayCmd = readFileSync(`/proc/${run.pids().get('gateway')}/cmdline`, 'utf8').split('\0')
  assert.ok(gatewayCmd.includes('gateway/dist/main.mjs'), `make start runs the gateway's bundle: ${gatewayCmd.join(' ')}`)
  const assets = [...new Set(html.match(/\/assets\/[\w.-]+/g))]
  assert.ok(assets.length >= 4, `the page links its assets: ${assets}`)
  for (const a of assets) {
    const r = await fetch(`http://127.0.0.1:${ports.gateway}${a}`)
    assert.equal(r.status, 200, `${a} from the bundled gateway`)
    assert.ok((await r.arrayBuffer()).byteLength > 0, `${a} has content`)
  }
  const widget = await fetch(`http://127.0.0.1:${ports.gateway}/todo`, { headers: { 'hx-request': 'true' } })
  assert.equal(widget.status, 200)
  assert.equal(widget.headers.get('x-dx-fallback'), null, 'the gateway reached todo on TODO_PORT')
  await widget.text()
  const standalone = await (await fetch(`http://127.0.0.1:${ports.todo}/`)).text()
  assert.ok(standalone.includes(`href="${gw}"`), 'the standalone page links to the main app on GATEWAY_PORT')

  const todoPid = run.pids().get('todo')!
  process.kill(todoPid, 'SIGKILL')
  await run.waitFor(new RegExp(`todo \\(pid ${todoPid}\\) was stopped by SIGKILL from outside: it stays down.*make start`), 10_000)
  const fallback = await fetch(`http://127.0.0.1:${ports.gateway}/todo`, { headers: { 'hx-request': 'true' } })
  assert.notEqual(fallback.headers.get('x-dx-fallback'), null, 'the gateway shows the fallback')
  await fallback.text()
  await sleep(1500) // a crash would have been restarted by now
  assert.equal([...run.out.matchAll(/todo started/g)].length, 1)

  const stop = new Runner(env, ['--stop'])
  t.after(() => stop.cleanup())
  assert.deepEqual(await stop.exited(30_000), { code: 0, signal: null }, stop.out + stop.err)
  assert.match(stop.out, /distributex stopped/)
  assert.deepEqual(await run.exited(15_000), { code: 0, signal: null })
  assert.match(run.out, /SIGTERM: stopping 3 processes/)
  await allFree(Object.values(ports))
  for (const [name, pid] of run.pids()) assert.equal(alive(pid), false, `${name} (pid ${pid}) still runs`)
  assert.equal(existsSync(join(dir, 'run.pid')), false)
})

test('a port held by another program: one clear line, exit 1, nothing started', async (t) => {
  const { ports, env } = await setup(t)
  const squatter = createServer()
  await new Promise<void>((r) => squatter.listen(ports.todo, '127.0.0.1', r))
  t.after(() => new Promise((r) => squatter.close(r)))
  const run = new Runner(env)
  t.after(() => run.cleanup())
  assert.deepEqual(await run.exited(30_000), { code: 1, signal: null })
  assert.equal(run.err, `port ${ports.todo} (todo) is already in use by another program: set TODO_PORT to another port\n`)
  assert.doesNotMatch(run.out, /started/)
  await allFree([ports.gateway, ports.chat, ports.news])
})

test('a part that exits during start-up stops everything, with its last lines', async (t) => {
  const { ports, env, dir } = await setup(t)
  env.DX_CONFIG = join(dir, 'no-such-gateway.toml')
  const run = new Runner(env)
  t.after(() => run.cleanup())
  assert.deepEqual(await run.exited(60_000), { code: 1, signal: null })
  assert.match(run.err, /^gateway exited during start-up \(exit code 2\); its last lines:\n(  .*\n)*  .*cannot read config file/m)
  assert.match(run.out, /start-up failed: stopping 3 processes/)
  await allFree(Object.values(ports))
  for (const [name, pid] of run.pids()) assert.equal(alive(pid), false, `${name} (pid ${pid}) still runs`)
  assert.equal(existsSync(join(dir, 'run.pid')), false)
})

test('a bad port variable: one clear line naming it, exit 2', async (t) => {
  const { env } = await setup(t, { CHAT_PORT: 'chat' })
  const run = new Runner(env)
  t.after(() => run.cleanup())
  assert.deepEqual(await run.exited(30_000), { code: 2, signal: null })
  assert.equal(run.err, 'CHAT_PORT="chat" is not a port: expected a whole number from 1 to 65535\n')
})
