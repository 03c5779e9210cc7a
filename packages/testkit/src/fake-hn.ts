import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** An HN item as the API sends it; `null` is what HN answers for an unknown id. */
export type FakeItem = Record<string, unknown> | null

/** A story in the API's shape, with realistic defaults. */
export function fakeStory(id: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: 'story',
    by: `user${id}`,
    time: Math.floor(Date.now() / 1000) - 3 * 3600,
    title: `Story number ${id}`,
    url: `https://example.com/stories/${id}`,
    score: 100 + (id % 50),
    descendants: id % 30,
    kids: [],
    ...fields,
  }
}

/**
 * A local stand-in for the Hacker News API (`/v0/topstories.json`, `/v0/item/<id>.json`)
 * on 127.0.0.1, so tests never reach the internet. Its knobs: the data, a latency, 500s,
 * malformed JSON, being down; it counts what it was asked.
 */
export class FakeHn {
  top: number[] = []
  items = new Map<number, FakeItem | string>()
  /** Wait this long before answering each request. */
  latencyMs = 0
  /** Answer every request with this status (e.g. 500) instead of data. */
  failStatus: number | undefined
  /** Answer every request with broken JSON. */
  malformed = false
  /** Paths asked for, in order. */
  requests: string[] = []
  inFlight = 0
  maxInFlight = 0
  private server: Server
  private port = 0

  constructor() {
    this.server = this.makeServer()
  }

  get url() {
    return `http://127.0.0.1:${this.port}/v0`
  }

  /** How many requests were for paths containing `part` (all when omitted). */
  count(part = ''): number {
    return this.requests.filter((p) => p.includes(part)).length
  }

  /** The top list and its items, in order; `null` entries make an id HN answers null for. */
  setStories(stories: FakeItem[], extraIds: number[] = []) {
    this.top = []
    this.items.clear()
    for (const s of stories) {
      if (s && typeof s.id === 'number') {
        this.top.push(s.id)
        this.items.set(s.id, s)
      }
    }
    this.top.push(...extraIds)
    return this
  }

  /** One item: an object, `null`, or a raw string sent as the body (broken JSON, wrong shapes). */
  setItem(id: number, item: FakeItem | string) {
    this.items.set(id, item)
    return this
  }

  reset() {
    this.latencyMs = 0
    this.failStatus = undefined
    this.malformed = false
    this.requests = []
    this.maxInFlight = 0
    return this
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  /** Stops listening and drops open connections: calls are refused until `up()`. */
  async down(): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>((r) => this.server.close(() => r()))
    this.server.closeAllConnections()
    await closed
    this.server = this.makeServer()
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (!this.server.listening) await this.start(this.port)
  }

  close() {
    return this.down()
  }

  private makeServer() {
    return createServer((req, res) => void this.handle(req, res))
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0]
    this.requests.push(path)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    res.once('close', () => this.inFlight--)
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs))
    if (res.destroyed) return
    if (this.failStatus) return this.send(res, this.failStatus, '{"error":"fake failure"}')
    if (this.malformed) return this.send(res, 200, '{"id": 1, "title": "cut off')
    const item = /^\/v0\/item\/(\d+)\.json$/.exec(path)
    if (path === '/v0/topstories.json') return this.send(res, 200, JSON.stringify(this.top))
    if (item) {
      const value = this.items.get(Number(item[1])) ?? null
      return this.send(res, 200, typeof value === 'string' ? value : JSON.stringify(value))
    }
    this.send(res, 404, '{"error":"Permission denied"}')
  }

  private send(res: ServerResponse, status: number, body: string) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
}

export async function startFakeHn(): Promise<FakeHn> {
  return new FakeHn().start()
}
