// Runs one child command and decides what happens when it exits. The policy: a crash
// (non-zero exit code) is restarted with a backoff that doubles up to a ceiling, so a
// part that fails at once does not spin; an exit the user asked for — a signal from
// outside, or a clean exit 0, which is also what our processes do on `kill <pid>` —
// stays down, so `kill` is a way to watch the gateway's fallbacks.
import type { ChildProcess } from 'node:child_process'

export type Exit = { code: number | null; signal: NodeJS.Signals | null }

export type Timers = {
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
  now: () => number
}

export type SupervisorOptions = {
  name: string
  spawn: () => ChildProcess
  log: (line: string) => void
  /** First restart delay; it doubles after each crash up to `maxDelayMs`. */
  initialDelayMs?: number
  maxDelayMs?: number
  /** A child that stayed up this long has recovered: its next crash starts the backoff afresh. */
  stableAfterMs?: number
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number
  /**
   * The child leads its own process group (spawned with `detached: true`). A watcher such
   * as `tsx watch` runs the server as a child of its own: killing only the watcher (as a
   * user's `kill -9 <pid>` does) would leave the server holding its port, so whatever of
   * the group outlives the child is killed with it.
   */
  group?: boolean
  timers?: Timers
  /** Each exit stop() did not ask for, with what the supervisor does next. */
  onExit?: (exit: Exit, next: 'restart' | 'down') => void
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
}

const seconds = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`)

export class Supervisor {
  child: ChildProcess | undefined
  /**
   * Off while the system starts: the runner then reports a failing part and stops
   * everything, rather than retrying something that may never work.
   */
  keepAlive = false
  private delay: number
  private startedAt = 0
  private pending: unknown
  private stopping = false
  /** The child restart() is replacing: its exit is expected, neither logged nor reported. */
  private replacing: ChildProcess | undefined
  /** restart() calls run one after the other, so two changes never start two children. */
  private restarts: Promise<unknown> = Promise.resolve()
  private readonly t: Timers

  constructor(private readonly opts: SupervisorOptions) {
    this.delay = opts.initialDelayMs ?? 1000
    this.t = opts.timers ?? realTimers
  }

  get state(): 'running' | 'restarting' | 'down' {
    return this.child ? 'running' : this.pending !== undefined || this.replacing ? 'restarting' : 'down'
  }

  start(): ChildProcess {
    const child = this.opts.spawn()
    this.child = child
    this.startedAt = this.t.now()
    // The pid is what a user needs to `kill` one part and watch the others cope.
    if (child.pid !== undefined) this.opts.log(`${this.opts.name} started (pid ${child.pid})`)
    child.once('exit', (code, signal) => {
      this.killGroup(child)
      this.exited(child, { code, signal })
    })
    // A command that cannot be spawned at all gets no 'exit' event.
    child.once('error', (e) => {
      if (child.pid !== undefined) return
      this.opts.log(`${this.opts.name} could not be started: ${e.message}`)
      this.exited(child, { code: null, signal: null })
    })
    return child
  }

  /** Stops the child (SIGTERM, then SIGKILL after the grace period) and cancels a pending restart. */
  stop(): Promise<void> {
    this.stopping = true
    if (this.pending !== undefined) this.t.clearTimeout(this.pending)
    this.pending = undefined
    return this.terminate(this.child)
  }

  /**
   * `make watch` after an edit: the running child is stopped as stop() does (or a pending
   * crash restart cancelled) and a new one started at once, with the backoff reset. Nothing
   * after stop().
   */
  restart(): Promise<ChildProcess | undefined> {
    const next = this.restarts.then(async () => {
      if (this.stopping) return undefined
      if (this.pending !== undefined) this.t.clearTimeout(this.pending)
      this.pending = undefined
      const child = this.child
      this.replacing = child
      try {
        await this.terminate(child)
      } finally {
        this.replacing = undefined
      }
      if (this.stopping) return undefined
      this.delay = this.opts.initialDelayMs ?? 1000
      return this.start()
    })
    this.restarts = next.catch(() => {})
    return next
  }

  private terminate(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      const force = this.t.setTimeout(() => {
        child.kill('SIGKILL')
        this.killGroup(child)
      }, this.opts.stopGraceMs ?? 8000)
      child.once('exit', () => {
        this.t.clearTimeout(force)
        resolve()
      })
      child.kill('SIGTERM')
    })
  }

  private killGroup(child: ChildProcess) {
    if (!this.opts.group || child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // nothing of the group is left
    }
  }

  private exited(child: ChildProcess, exit: Exit) {
    if (this.child !== child) return
    this.child = undefined
    if (this.stopping || this.replacing === child) return
    if (!this.keepAlive) return this.opts.onExit?.(exit, 'down')
    const { name } = this.opts
    const pid = `pid ${child.pid ?? '-'}`
    const crashed = exit.signal === null && exit.code !== null && exit.code !== 0
    if (!crashed) {
      const how = exit.signal
        ? `was stopped by ${exit.signal} from outside`
        : exit.code === 0
          ? 'exited with code 0 (it stopped itself, or was stopped with kill)'
          : 'could not be started'
      this.opts.log(`${name} (${pid}) ${how}: it stays down, the others keep running; to bring it back, stop and run make start again`)
      return this.opts.onExit?.(exit, 'down')
    }
    const initial = this.opts.initialDelayMs ?? 1000
    if (this.t.now() - this.startedAt >= (this.opts.stableAfterMs ?? 60_000)) this.delay = initial
    const delay = this.delay
    this.delay = Math.min(delay * 2, this.opts.maxDelayMs ?? 30_000)
    this.opts.log(`${name} (${pid}) crashed with exit code ${exit.code}: restarting in ${seconds(delay)}`)
    this.pending = this.t.setTimeout(() => {
      this.pending = undefined
      if (!this.stopping) this.start()
    }, delay)
    this.opts.onExit?.(exit, 'restart')
  }
}
