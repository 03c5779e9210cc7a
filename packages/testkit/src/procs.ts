import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

/** The repository root, so tests can start processes from any working directory. */
export const root = fileURLToPath(new URL('../../../', import.meta.url))

// Picked below Linux's ephemeral range (32768–60999), which listen(0) picks from: there,
// an outgoing connection (to NATS, PostgreSQL, another part) could take the port between
// this check and the child that binds it, as CI once saw (EADDRINUSE at a gateway's start).
const PORT_LOW = 20_000
const PORT_HIGH = 32_000

/** A port free on 127.0.0.1 now, for a process about to be started. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await listenOnce(PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW)))
    if (port !== undefined) return port
  }
  const port = await listenOnce(0)
  if (port === undefined) throw new Error('no free port on 127.0.0.1')
  return port
}

/** Listens on `port` and closes again: the port it got, or undefined when it was taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(undefined))
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port
      s.close(() => resolve(got))
    })
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `url` until it answers 200, or throws after `timeoutMs`. */
export async function waitForOk(url: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < until) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (r.ok) return
      last = `status ${r.status}`
    } catch (e) {
      last = (e as Error).message
    }
    await sleep(100)
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`)
}

export type ProcOptions = {
  name: string
  /** Entry file relative to the repo root: TypeScript runs with tsx, a bundle (.mjs) as is. */
  entry: string
  /** Node's own flags, before the entry. */
  nodeFlags?: string[]
  env?: Record<string, string>
  /** Health URL polled after start; defaults to `${url}/healthz`. */
  ready?: string
  port: number
}

/** A real process of the system, started with tsx (or a bundle with node), that a test can stop, kill and start again. */
export class Proc {
  child: ChildProcess | undefined
  output = ''
  constructor(readonly opts: ProcOptions) {}

  get url() {
    return `http://127.0.0.1:${this.opts.port}`
  }

  async start(): Promise<this> {
    const { entry, nodeFlags = [] } = this.opts
    const args = entry.endsWith('.ts') ? [...nodeFlags, '--import', 'tsx', entry] : [...nodeFlags, entry]
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...this.opts.env, PORT: String(this.opts.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000)
      if (process.env.DX_TEST_LOGS) process.stderr.write(`[${this.opts.name}] ${d}`)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    try {
      await Promise.race([
        waitForOk(this.opts.ready ?? `${this.url}/healthz`),
        new Promise((_, reject) =>
          child.once('exit', (code) => reject(new Error(`${this.opts.name} exited with ${code} during start`))),
        ),
      ])
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- ${this.opts.name} output ---\n${this.output}`)
    }
    return this
  }

  /** Stops the process with `signal` and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  kill9() {
    return this.stop('SIGKILL')
  }
}

export async function startProc(opts: ProcOptions) {
  return new Proc(opts).start()
}
