// The ways a browser can get the main page with its three widgets, as the compose
// benchmark times them: each from the first request to the last byte of the page.
import { Client, Pool, type Dispatcher } from 'undici'

export type Got = { status: number; body: string; firstMs: number; endMs: number }

/** One GET: when its first body byte and its last one arrived (ms after `t0`). */
export async function get(d: Dispatcher, path: string, t0: number, headers: Record<string, string> = {}): Promise<Got> {
  const r = await d.request({ method: 'GET', path, headers: { accept: 'text/html', ...headers }, signal: AbortSignal.timeout(15_000) })
  let firstMs = NaN
  const chunks: Buffer[] = []
  for await (const chunk of r.body) {
    if (chunks.length === 0) firstMs = performance.now() - t0
    chunks.push(chunk as Buffer)
  }
  return { status: r.statusCode, body: Buffer.concat(chunks).toString('utf8'), firstMs, endMs: performance.now() - t0 }
}

export type Sample = { ms: number; firstMs: number; bytes: number; text: string; statuses: number[] }

/** A way to get the whole page: `run` gets it once, `close` drops its connections. */
export type Mode = { run: () => Promise<Sample>; close: () => Promise<void> }

/** A page composed by one server: one request on one kept-alive connection. */
export function serverComposed(origin: string): Mode {
  const client = new Client(origin, { pipelining: 1 })
  return {
    run: async () => {
      const t0 = performance.now()
      const g = await get(client, '/', t0)
      return { ms: g.endMs, firstMs: g.firstMs, bytes: Buffer.byteLength(g.body), text: g.body, statuses: [g.status] }
    },
    close: () => client.close(),
  }
}

/**
 * The shell page, then each widget as htmx asks for it once the shell is in, over up
 * to 6 kept-alive connections to the same origin as a browser has. Optimistic for the
 * browser: no parsing, and no wait for htmx to start.
 */
export function browserComposed(origin: string, shellPath: string, widgets: string[]): Mode {
  const pool = new Pool(origin, { connections: 6, pipelining: 1 })
  return {
    run: async () => {
      const t0 = performance.now()
      const shell = await get(pool, shellPath, t0)
      const parts = await Promise.all(widgets.map((w) => get(pool, w, t0, { 'HX-Request': 'true', 'HX-Current-URL': `${origin}/` })))
      const all = [shell, ...parts]
      return {
        ms: Math.max(...parts.map((p) => p.endMs)),
        firstMs: shell.firstMs,
        bytes: all.reduce((n, p) => n + Buffer.byteLength(p.body), 0),
        text: all.map((p) => p.body).join('\n'),
        statuses: all.map((p) => p.status),
      }
    },
    close: () => pool.close(),
  }
}

/**
 * The three fragments in parallel, one connection each: straight from their servers, the
 * slowest is the floor of any composition; through the gateway's proxy, that plus one hop.
 */
export function parallelFragments(origins: string[], paths: string[], headers: Record<string, string> = {}): Mode {
  const clients = origins.map((o) => new Client(o, { pipelining: 1 }))
  return {
    run: async () => {
      const t0 = performance.now()
      const parts = await Promise.all(clients.map((c, i) => get(c, paths[i], t0, headers)))
      return {
        ms: Math.max(...parts.map((p) => p.endMs)),
        firstMs: Math.min(...parts.map((p) => p.firstMs)),
        bytes: parts.reduce((n, p) => n + Buffer.byteLength(p.body), 0),
        text: parts.map((p) => p.body).join('\n'),
        statuses: parts.map((p) => p.status),
      }
    },
    close: async () => void (await Promise.all(clients.map((c) => c.close()))),
  }
}
