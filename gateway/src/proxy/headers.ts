import type { ClientRequest } from './forward.js'
import { requestId } from '../request-id.js'

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
// The framing headers go too: the gateway frames each message itself, so a body can never
// be read one way here and another way by the service (request smuggling).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
])

// What a client may claim about where a request came from. Dropped unless a proxy of our
// own stands in front (trust_forwarded), else anyone could pose as anyone.
export const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'forwarded'])

/**
 * The header names listed in a `Connection` value, lowercased: they are hop-by-hop too.
 * `close` and `keep-alive`, the usual values, name nothing to drop.
 */
export function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined
  // Nearly every message says just one of these: no list to split.
  if (typeof value === 'string' && value.length <= 10) {
    const v = value.toLowerCase()
    if (v === 'keep-alive' || v === 'close') return undefined
  }
  let out: Set<string> | undefined
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const t of part.split(',')) {
      const token = t.trim().toLowerCase()
      if (token && token !== 'close' && token !== 'keep-alive') (out ??= new Set()).add(token)
    }
  }
  return out
}

export const clientAddress = (req: ClientRequest) => {
  const a = req.socket.remoteAddress ?? ''
  return a.startsWith('::ffff:') ? a.slice(7) : a
}

/** What the forwarder needs to know of a request, read in one pass over its raw headers. */
export type RequestHead = {
  /** The headers for the upstream, as a flat [name, value, …] list. */
  upstream: string[]
  htmx: boolean
  /** The body the request announces: a length, or chunked. */
  body: number | 'chunked'
  host?: string
  /** The host a trusted proxy in front says the client asked for. */
  forwardedHost?: string
  origin?: string
  secFetchSite?: string
  /** Read only when the response carries events: the actor cookie and the page id. */
  cookie?: string
  client?: string
  /** X-Request-Id: the client's when sane, else a new one; sent upstream and logged. */
  requestId: string
}

/**
 * Reads a request's raw headers once. The upstream headers are built fresh: the client's
 * end-to-end headers as they came, minus hop-by-hop, Connection-named, `Expect`, the
 * gateway's own `X-Dx-*` (except the page id) and, unless trusted, forwarding claims; then
 * the X-Forwarded-* the gateway vouches for. The body's exact length is set by the HTTP
 * client from the body itself.
 */
export function readHead(req: ClientRequest, trustForwarded: boolean, mark?: string): RequestHead {
  const raw = req.rawHeaders
  const out: string[] = []
  const head: RequestHead = { upstream: out, htmx: false, body: 0, requestId: '' }
  let givenId: string | undefined
  let named: Set<string> | undefined
  let xff: string | undefined
  let proto: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    const value = raw[i + 1]
    const key = name.toLowerCase()
    switch (key) {
      case 'content-length':
        // Node's parser has already refused a bad or conflicting length.
        if (head.body === 0) head.body = Number(value)
        continue
      case 'transfer-encoding':
        head.body = 'chunked'
        continue
      case 'connection':
        named = connectionTokens(value)
        continue
      case 'host':
        if (head.host !== undefined) continue // the first Host is the one Node routed by
        head.host = value
        break
      case 'hx-request':
        head.htmx = value === 'true'
        break
      case 'origin':
        head.origin ??= value
        break
      case 'sec-fetch-site':
        head.secFetchSite ??= value
        break
      case 'cookie':
        head.cookie = head.cookie ? `${head.cookie}; ${value}` : value
        break
      case 'x-dx-client':
        head.client ??= value
        break
      case 'x-request-id':
        givenId ??= value
        continue
      case 'expect':
        continue
      default:
        if (HOP_BY_HOP.has(key)) continue
        if (FORWARDED.has(key)) {
          if (!trustForwarded) continue
          // Several of the same forwarding header are one list (RFC 9110 §5.3), kept in order.
          if (key === 'x-forwarded-for') xff = xff ? `${xff}, ${value}` : value
          else if (key === 'x-forwarded-proto') proto ??= value
          else if (key === 'x-forwarded-host') head.forwardedHost ??= value
          else out.push(name, value)
          continue
        }
        if (key.startsWith('x-dx-') && key !== 'x-dx-client') continue
    }
    out.push(name, value)
  }
  const upstream = named ? dropNamed(out, named) : out
  const addr = clientAddress(req)
  upstream.push('X-Forwarded-For', xff ? `${xff}, ${addr}` : addr)
  upstream.push('X-Forwarded-Proto', proto ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'))
  const host = head.forwardedHost ?? head.host
  if (host) upstream.push('X-Forwarded-Host', host)
  head.requestId = requestId(givenId)
  upstream.push('X-Request-Id', head.requestId)
  // Tells the service this request's events are relayed here, so it does not publish them too.
  if (mark) upstream.push('X-Dx-Via', mark)
  head.upstream = upstream
  return head
}

/**
 * The response headers sent to the client, as a flat list: the upstream's raw ones, minus
 * hop-by-hop and Connection-named ones (Node frames the response again). `Content-Length`
 * is kept when the upstream gave one, so the client sees the exact length.
 */
export function responseHeaders(raw: string[]): { headers: string[]; triggers: boolean; html: boolean; csp: boolean; vary?: string } {
  const headers: string[] = []
  let named: Set<string> | undefined
  let triggers = false
  let html = false
  let csp = false
  let vary: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    const value = raw[i + 1]
    const key = name.toLowerCase()
    if (key === 'connection') {
      named = connectionTokens(value)
      continue
    }
    if (key !== 'content-length' && HOP_BY_HOP.has(key)) continue
    if (key === 'vary') {
      vary = vary ? `${vary}, ${value}` : value
      continue
    }
    if (key.startsWith('hx-trigger')) triggers = true
    else if (key === 'content-type') html = value.startsWith('text/html')
    else if (key === 'content-security-policy') csp = true
    headers.push(name, value)
  }
  if (named) return { headers: dropNamed(headers, named), triggers, html, csp, vary }
  return { headers, triggers, html, csp, vary }
}

function dropNamed(headers: string[], named: Set<string>): string[] {
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) if (!named.has(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1])
  return out
}
