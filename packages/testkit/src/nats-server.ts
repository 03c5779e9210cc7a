import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { freePort, sleep } from './procs.js'

/**
 * Where nats-server is: `DX_TEST_NATS_SERVER`, else on PATH, else where Debian's package
 * puts it (/usr/sbin is not on a normal user's PATH).
 */
export function natsServerPath(): string | undefined {
  const set = process.env.DX_TEST_NATS_SERVER
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  // A path that was set and is wrong means missing: never a different binary than asked for.
  const candidates = set ? [set] : dirs.filter(Boolean).map((dir) => join(dir, 'nats-server'))
  return candidates.find(executable)
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` within a second. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' })
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(1000, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

/**
 * A NATS server of a test's own, on a free port with JetStream in a temporary folder, that
 * the test may stop and start again (on the same port) without touching the machine's NATS.
 */
export class NatsServer {
  child: ChildProcess | undefined
  output = ''
  private constructor(
    readonly bin: string,
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(): Promise<NatsServer> {
    const bin = natsServerPath()
    if (!bin) throw new Error('nats-server is not on PATH (nor in /usr/sbin; or set DX_TEST_NATS_SERVER): apt-get install nats-server')
    const s = new NatsServer(bin, await freePort(), mkdtempSync(join(tmpdir(), 'dx-nats-')))
    return s.start()
  }

  get url() {
    return `nats://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    const child = spawn(this.bin, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-10_000))
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(50)) {
      if (child.exitCode !== null) break
      if (await listening(this.port)) return this
    }
    await this.stop()
    throw new Error(`nats-server did not listen on ${this.port} within 10 s; its output:\n${this.output}`)
  }

  /** Stops it and waits for the exit (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  /** Stops it for good and removes its store. */
  async close(): Promise<void> {
    await this.stop()
    rmSync(this.storeDir, { recursive: true, force: true })
  }
}
