import WebSocket from 'ws'

export type Closed = { code: number; reason: string }

/**
 * A chat client for tests and the benchmark: what htmx-ext-ws does, without a browser.
 * With `reconnect`, it comes back after the close codes htmx-ext-ws retries on.
 */
export class ChatClient {
  frames: string[] = []
  ws!: WebSocket
  closes: Closed[] = []
  private waiters = new Set<() => void>()
  private stopped = false

  constructor(
    readonly url: string,
    readonly opts: { reconnect?: boolean; onFrame?: (frame: string) => void } = {},
  ) {}

  static async open(base: string, room: string, nick: string, opts: ChatClient['opts'] & { sid?: string } = {}) {
    const sid = opts.sid ?? `sid-${nick}-${Math.random().toString(36).slice(2)}`
    const url = `${base.replace(/^http/, 'ws')}/chat/ws?${new URLSearchParams({ room, nick, sid })}`
    const c = new ChatClient(url, opts)
    await c.connect()
    return c
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url)
      this.ws = ws
      ws.on('open', () => resolve())
      ws.on('error', (e) => reject(e))
      ws.on('message', (d) => {
        const frame = String(d)
        this.frames.push(frame)
        this.opts.onFrame?.(frame)
        this.wake()
      })
      ws.on('close', (code, reason) => {
        this.closes.push({ code, reason: String(reason) })
        this.wake()
        if (this.opts.reconnect && !this.stopped && [1006, 1011, 1012, 1013].includes(code)) void this.retry()
      })
    })
  }

  private async retry() {
    await new Promise((r) => setTimeout(r, 200))
    if (this.stopped) return
    // Still down: the refused handshake closes with 1006, which lands here again.
    await this.connect().catch(() => {})
  }

  private wake() {
    for (const w of this.waiters) w()
  }

  send(text: string) {
    this.ws.send(JSON.stringify({ text, HEADERS: { 'HX-Request': 'true' } }))
  }

  /** Resolves with the first frame (from `from` on) that matches, or rejects after `ms`. */
  waitFor(test: RegExp | ((f: string) => boolean), ms = 5000, from = 0): Promise<string> {
    const ok = typeof test === 'function' ? test : (f: string) => test.test(f)
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.frames.slice(from).find(ok)
        if (hit === undefined) return false
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(hit)
        return true
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`no frame matching ${test} within ${ms} ms; got:\n${this.frames.slice(-5).join('\n')}`))
      }, ms)
      if (!check()) this.waiters.add(check)
    })
  }

  waitClose(ms = 5000): Promise<Closed> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.closes.length) return false
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(this.closes[0]!)
        return true
      }
      const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms)
      if (!check()) this.waiters.add(check)
    })
  }

  /** The texts of chat messages received, in order. */
  texts(): string[] {
    return this.frames.flatMap((f) => [...f.matchAll(/<span class="chat-text[^"]*">([^<]*)<\/span>/g)].map((m) => m[1]!))
  }

  close() {
    this.stopped = true
    this.ws.close()
  }
}
