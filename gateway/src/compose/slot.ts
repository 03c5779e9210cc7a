import type { Dispatcher } from 'undici'
import { CONNECT_ERRORS } from '../proxy/forward.js'
import type { FailReason } from '../fallback.js'
import type { Route } from '../proxy/route.js'

/** What one widget fetch for the composed page came to. */
export type SlotFetch =
  | { kind: 'ok'; body: Buffer; headers: string[] }
  /** Not ready within its budget, or not something to place (not HTML, too big, a redirect): the browser loads it. */
  | { kind: 'late' }
  | { kind: 'failed'; reason: FailReason }

const late: SlotFetch = { kind: 'late' }

/**
 * Fetches a service's widget as htmx would, within the slot's budget (until `until`, ms since
 * the epoch): round robin over its usable replicas, the next one when a replica cannot be
 * reached, and every outcome reported to the replica's breaker as the proxy does. `signal`
 * ends it early (the page's client went away). A wait never outlasts the budget.
 */
export async function fetchSlot(route: Route, headers: string[], until: number, signal: AbortSignal, maxBytes: number): Promise<SlotFetch> {
  const { upstreams, service } = route
  const tried = new Set<URL>()
  let lastFailure: FailReason | undefined
  let resetRetried = false
  for (;;) {
    const target = upstreams.pick(tried)
    if (!target) return { kind: 'failed', reason: lastFailure ?? (upstreams.size === 0 ? 'no-upstream' : 'unavailable') }
    const left = until - Date.now()
    if (left <= 0 || signal.aborted) {
      upstreams.release(target)
      return late
    }
    const ac = new AbortController()
    const stop = () => ac.abort()
    const timer = setTimeout(stop, left)
    signal.addEventListener('abort', stop, { once: true })
    const sentAt = Date.now()
    try {
      const r = await route.pool(target).request({ method: 'GET', path: service.widget, headers, signal: ac.signal })
      const body = await readCapped(r.body, maxBytes)
      upstreams.report(target, r.statusCode >= 500 ? 'fail' : 'ok', Date.now() - sentAt, r.statusCode >= 500 ? `answered ${r.statusCode}` : undefined)
      if (r.statusCode >= 500) return { kind: 'failed', reason: 'upstream-5xx' }
      const flat = flatten(r.headers)
      if (r.statusCode !== 200 || body === undefined || !isUtf8Html(r.headers['content-type'])) return late
      return { kind: 'ok', body, headers: flat }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (ac.signal.aborted) {
        // Late says nothing about the replica: the browser's own request is judged by the proxy.
        upstreams.release(target)
        return late
      }
      // A kept-alive socket the service closed as it was reused: once more, not held against it.
      if ((code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') && !resetRetried) {
        resetRetried = true
        upstreams.release(target)
        continue
      }
      if (CONNECT_ERRORS.has(code!)) {
        upstreams.report(target, 'connect-fail', Date.now() - sentAt, code)
        tried.add(target)
        lastFailure = code === 'ECONNREFUSED' ? 'refused' : code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect-timeout' : 'upstream-error'
        continue
      }
      upstreams.report(target, 'fail', Date.now() - sentAt, code ?? (err as Error).message)
      return { kind: 'failed', reason: code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' ? 'connection-lost' : 'upstream-error' }
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
    }
  }
}

/** The body whole, or undefined (and the rest dropped) once it is over `max` bytes. */
async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > max) {
      body.destroy()
      return undefined
    }
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
}

function flatten(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(headers)) {
    if (Array.isArray(v)) for (const one of v) out.push(k, one)
    else if (v !== undefined) out.push(k, v)
  }
  return out
}

function isUtf8Html(type: string | string[] | undefined): boolean {
  const v = (Array.isArray(type) ? type[0] : type)?.toLowerCase() ?? ''
  if (!v.trimStart().startsWith('text/html')) return false
  const cs = /;\s*charset\s*=\s*"?([^";\s]+)/.exec(v)
  return !cs || cs[1] === 'utf-8' || cs[1] === 'utf8' || cs[1] === 'us-ascii'
}
