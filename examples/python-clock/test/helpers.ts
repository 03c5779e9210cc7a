// Test helpers for the Python clock: find python3, start clock.py on a free port, start a
// gateway whose config names the clock (and a todo that is down, as a source of events).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findOnPath } from '../../../scripts/lib/plan.js'
import { freePort, Proc, root, waitForOk } from '@dx/testkit'

/** python3 on PATH, or undefined: the tests that need it are skipped with that reason. */
export const python = findOnPath('python3', process.env.PATH)
export const NO_PYTHON = 'python3 is not on PATH'

export class Clock {
  child: ChildProcess | undefined
  output = ''
  constructor(
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    const child = spawn(python!, [join(root, 'examples/python-clock/clock.py')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000)
      if (process.env.DX_TEST_LOGS) process.stderr.write(`[clock] ${d}`)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    try {
      await Promise.race([
        waitForOk(`${this.url}/healthz`, 15_000),
        new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`clock.py exited with ${code} during start`)))),
      ])
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- clock output ---\n${this.output}`)
    }
    return this
  }

  async stop(): Promise<number | null> {
    const child = this.child
    if (!child) return null
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
}

export async function startClock(env: Record<string, string>): Promise<Clock> {
  return new Clock(await freePort(), env).start()
}

export type ClockSystem = { gateway: Proc; clock: Clock; secret: string; todoPort: number; stop: () => Promise<void> }

/**
 * A gateway (a real process) with the clock as a service, and `todo` configured on a closed
 * port so that envelopes with source "todo" may be published to it.
 */
export async function startClockSystem(secret: string): Promise<ClockSystem> {
  const gwPort = await freePort()
  const todoPort = await freePort()
  const gatewayUrl = `http://127.0.0.1:${gwPort}`
  const clock = await startClock({ DX_EVENT_SECRET: secret, DX_GATEWAY_URL: gatewayUrl })
  const dir = mkdtempSync(join(tmpdir(), 'dx-clock-'))
  const config = join(dir, 'gateway.toml')
  writeFileSync(
    config,
    `[gateway]\nhealth_interval_ms = 200\n\n[[services]]\nname = "todo"\nupstreams = ["http://127.0.0.1:${todoPort}"]\n\n` +
      `[[services]]\nname = "clock"\ntitle = "Clock"\noptional = true\nupstreams = ["http://127.0.0.1:1"]\nstandalone_url = "${clock.url}"\n`,
  )
  let gateway: Proc
  try {
    gateway = await new Proc({
      name: 'gateway',
      entry: 'gateway/src/main.ts',
      port: gwPort,
      // CLOCK_URL switches the optional clock on, as make start does.
      env: { DX_CONFIG: config, DX_EVENT_SECRET: secret, CLOCK_URL: clock.url },
    }).start()
  } catch (e) {
    await clock.stop()
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return {
    gateway,
    clock,
    secret,
    todoPort,
    stop: async () => {
      await gateway.stop()
      await clock.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Reads the gateway's event stream until an event named `name` arrives (or `ms` pass). */
export async function nextEvent(gatewayUrl: string, name: string, act: () => Promise<unknown>, ms = 10_000): Promise<Record<string, unknown>> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), ms)
  try {
    const r = await fetch(`${gatewayUrl}/_dx/events`, { signal: ac.signal, headers: { accept: 'text/event-stream' } })
    if (!r.ok || !r.body) throw new Error(`GET /_dx/events answered ${r.status}`)
    const reader = r.body.getReader()
    const decoder = new TextDecoder()
    let buf = ''
    // The gateway counts the client in before its answer's headers leave: act now.
    await act()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) throw new Error('the event stream ended')
      buf += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, end)
        buf = buf.slice(end + 2)
        const event = /^event: (.*)$/m.exec(frame)?.[1]
        const data = [...frame.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n')
        if (event === name) return JSON.parse(data) as Record<string, unknown>
      }
    }
  } catch (e) {
    if (ac.signal.aborted) throw new Error(`no ${name} on the gateway's event stream within ${ms} ms`)
    throw e
  } finally {
    clearTimeout(timer)
    ac.abort()
  }
}
