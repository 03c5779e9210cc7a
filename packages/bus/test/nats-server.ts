import { spawn, type ChildProcess } from 'node:child_process'
import { natsServerPath } from '@dx/testkit'
import { connect } from 'node:net'

/** The nats-server binary the reconnect tests start their own server with. */
export const NATS_SERVER = natsServerPath() ?? 'nats-server'

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })

/**
 * A NATS server of this test only, on a port of its own, that the test can kill and start
 * again: restarting the shared server would disturb everyone else on the machine.
 */
export class OwnNatsServer {
  private child: ChildProcess | undefined
  constructor(readonly port: number) {}

  get url() {
    return `nats://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port)], { stdio: 'ignore' })
    this.child = child
    const end = Date.now() + 10_000
    while (!(await listening(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server on port ${this.port} exited with ${child.exitCode}`)
      if (Date.now() > end) throw new Error(`nats-server on port ${this.port} did not listen within 10 s`)
      await new Promise((r) => setTimeout(r, 50))
    }
    return this
  }

  async kill() {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }
}
