// `make watch`: from changed files to restarted processes to reloaded pages. Each part to
// restart is restarted and waited for until its /healthz answers 200; once no restart is
// under way, one `reload` event names the parts and the ports whose pages should reload.
import { effectOfAll, type WatchedPart } from './dev-watch.js'

export type ReloadPart = WatchedPart & {
  /** Its pages' port, if it serves pages. */
  port?: number
  /** Stops the running process (if any) and starts it again. */
  restart?: () => Promise<unknown>
  /** Resolves true once the new process is healthy, false if it gave up or was aborted. */
  healthy?: (signal: AbortSignal) => Promise<boolean>
}

export type ReloadEvent = { parts: string[]; ports: number[] }

export type ReloaderOptions = {
  parts: readonly ReloadPart[]
  /** The main app's port: its page shows every part, so it reloads for any of them. */
  mainPort?: number
  emit: (event: ReloadEvent) => void
  log: (line: string) => void
}

export class Reloader {
  /** Parts being restarted, each with the controller that abandons its health wait. */
  private inFlight = new Map<string, AbortController>()
  /** Restarted and healthy since the last event. */
  private ready = new Set<string>()
  private reloadAll = false
  private closed = false

  constructor(private readonly opts: ReloaderOptions) {}

  /** A batch of changed files (relative to the repository root). */
  changed(files: readonly string[]) {
    if (this.closed) return
    const { restart, reloadPages } = effectOfAll(files, this.opts.parts)
    const shown = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ')
    if (restart.length > 0) this.opts.log(`changed: ${shown}; restarting ${restart.join(', ')}`)
    else if (reloadPages) this.opts.log(`changed: ${shown}; reloading the pages`)
    if (reloadPages) this.reloadAll = true
    for (const name of restart) void this.restart(name)
    this.maybeEmit()
  }

  /** The runner is stopping: abandon every wait, emit nothing more. */
  close() {
    this.closed = true
    this.inFlight.forEach((c) => c.abort())
  }

  /** Whether a restart is under way (for tests and the log). */
  get busy() {
    return this.inFlight.size > 0
  }

  private async restart(name: string) {
    const part = this.opts.parts.find((p) => p.name === name)
    if (!part?.restart) return
    // A newer change to the same part wins: the older restart's wait is abandoned.
    this.inFlight.get(name)?.abort()
    const ctl = new AbortController()
    this.inFlight.set(name, ctl)
    let ok = false
    try {
      await part.restart()
      ok = ctl.signal.aborted ? false : part.healthy ? await part.healthy(ctl.signal) : true
    } catch (e) {
      this.opts.log(`${name} could not be restarted: ${(e as Error).message}`)
    }
    if (this.inFlight.get(name) !== ctl || this.closed) return
    this.inFlight.delete(name)
    if (ok) this.ready.add(name)
    else this.opts.log(`${name} is not healthy after the change; its pages reload once a fix makes it healthy`)
    this.maybeEmit()
  }

  private maybeEmit() {
    if (this.inFlight.size > 0) return
    if (this.ready.size === 0 && !this.reloadAll) return
    const parts = this.opts.parts.filter((p) => this.ready.has(p.name)).map((p) => p.name)
    const pagesOf = this.reloadAll ? this.opts.parts : this.opts.parts.filter((p) => this.ready.has(p.name))
    const ports = new Set<number>()
    if (this.opts.mainPort !== undefined) ports.add(this.opts.mainPort)
    for (const p of pagesOf) if (p.port !== undefined) ports.add(p.port)
    this.ready.clear()
    this.reloadAll = false
    this.opts.emit({ parts, ports: [...ports] })
  }
}

/** Polls `check` every `everyMs` until it is true, `timeoutMs` passes, or `signal` aborts. */
export async function waitUntil(check: () => Promise<boolean>, signal: AbortSignal, timeoutMs = 60_000, everyMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs
  while (!signal.aborted && Date.now() < until) {
    if (await check()) return !signal.aborted
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return false
}
