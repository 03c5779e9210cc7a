import type { IncomingMessage } from 'node:http'

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
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'forwarded'])

/** The header names listed in a `Connection` value, lowercased: they are hop-by-hop too. */
export function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined
  const out = new Set<string>()
  for (const part of Array.isArray(value) ? value : [value]) for (const t of part.split(',')) out.add(t.trim().toLowerCase())
  return out
}

const clientAddress = (req: IncomingMessage) => {
  const a = req.socket.remoteAddress ?? ''
  return a.startsWith('::ffff:') ? a.slice(7) : a
}

/**
 * The headers sent upstream, built fresh as a flat [name, value, …] list: the client's
 * end-to-end headers as they came, minus hop-by-hop, Connection-named, `Expect`, the
 * gateway's own `X-Dx-*` (except the page id) and, unless trusted, forwarding claims;
 * then the X-Forwarded-* the gateway vouches for and the exact body length.
 */
export function upstreamHeaders(req: IncomingMessage, o: { trustForwarded: boolean; bodyLength: number }): string[] {
  const raw = req.rawHeaders
  const named = connectionTokens(req.headers.connection)
  const out: string[] = []
  let xff: string | undefined
  let proto: string | undefined
  let fwdHost: string | undefined
  let host = ''
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    const key = name.toLowerCase()
    if (HOP_BY_HOP.has(key) || key === 'expect' || named?.has(key)) continue
    if (key === 'host') {
      if (host) continue // a second Host: the first one is the one Node routed by
      host = raw[i + 1]
    } else if (FORWARDED.has(key)) {
      if (!o.trustForwarded) continue
      // Several of the same forwarding header are one list (RFC 9110 §5.3); kept in order.
      if (key === 'x-forwarded-for') xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1]
      else if (key === 'x-forwarded-proto') proto ??= raw[i + 1]
      else if (key === 'x-forwarded-host') fwdHost ??= raw[i + 1]
      else out.push(name, raw[i + 1])
      continue
    } else if (key.startsWith('x-dx-') && key !== 'x-dx-client') {
      continue
    }
    out.push(name, raw[i + 1])
  }
  const addr = clientAddress(req)
  out.push('X-Forwarded-For', xff ? `${xff}, ${addr}` : addr)
  out.push('X-Forwarded-Proto', proto ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'))
  if (fwdHost ?? host) out.push('X-Forwarded-Host', (fwdHost ?? host)!)
  if (o.bodyLength > 0 || !NO_BODY_METHODS.has(req.method ?? 'GET')) out.push('Content-Length', String(o.bodyLength))
  return out
}

// Methods that have no body by convention: no `Content-Length: 0` is sent for them.
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'])

/**
 * The response headers sent to the client, as a flat list: the upstream's, minus
 * hop-by-hop and Connection-named ones (Node frames the response again). `Content-Length`
 * is kept when the upstream gave one, so the client sees the exact length.
 */
export function responseHeaders(res: IncomingMessage): { headers: string[]; triggers: boolean; html: boolean; csp: boolean; vary?: string } {
  const raw = res.rawHeaders
  const named = connectionTokens(res.headers.connection)
  const headers: string[] = []
  let triggers = false
  let html = false
  let csp = false
  let vary: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    const key = name.toLowerCase()
    if (key !== 'content-length' && (HOP_BY_HOP.has(key) || named?.has(key))) continue
    if (key === 'vary') {
      vary = vary ? `${vary}, ${raw[i + 1]}` : raw[i + 1]
      continue
    }
    if (key.startsWith('hx-trigger')) triggers = true
    else if (key === 'content-type') html = raw[i + 1].startsWith('text/html')
    else if (key === 'content-security-policy') csp = true
    headers.push(name, raw[i + 1])
  }
  return { headers, triggers, html, csp, vary }
}
