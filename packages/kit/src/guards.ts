import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Logger } from './log.js'
import { crossSiteRefusal, securityHeaders } from './security.js'

export const DEFAULT_BODY_LIMIT = 1024 * 1024

/** `DX_BODY_LIMIT_BYTES`, or 1 MiB; anything but a positive whole number is a start-up error. */
export function bodyLimitBytes(raw = process.env.DX_BODY_LIMIT_BYTES): number {
  if (raw === undefined || raw === '') return DEFAULT_BODY_LIMIT
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`DX_BODY_LIMIT_BYTES must be a positive whole number of bytes, got "${raw}"`)
  return n
}

/**
 * nosniff on everything, so a JSON or text answer is never run as script or styles; the
 * page policy (CSP, no framing, referrer) on HTML, the only thing a browser renders.
 */
export function securityHeadersMiddleware(connect: readonly string[]): MiddlewareHandler {
  const page = Object.entries(securityHeaders(connect))
  return async (c, next) => {
    await next()
    c.res.headers.set('x-content-type-options', 'nosniff')
    if (!c.res.headers.get('content-type')?.startsWith('text/html')) return
    for (const [name, value] of page) if (!c.res.headers.has(name)) c.res.headers.set(name, value)
  }
}

/**
 * Refuses a body over `maxSize` before the handler reads it: at once from Content-Length,
 * or as soon as a chunked body passes the limit, so a large upload is never buffered.
 */
export function bodyLimitMiddleware(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) => c.text(`Request body too large: this service accepts at most ${maxSize} bytes.`, 413),
  })
}

/** 403 for a write that a browser sends from another site (CSRF); programs send no Origin and pass. */
export function crossSiteMiddleware(allowed: ReadonlySet<string>, log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const refusal = crossSiteRefusal({
      method: c.req.method,
      hosts: [c.req.header('host')],
      origin: c.req.header('origin'),
      secFetchSite: c.req.header('sec-fetch-site'),
      allowed,
    })
    if (!refusal) return next()
    log.warn(`${c.req.method} ${c.req.path}: ${refusal}`)
    return c.text(refusal, 403)
  }
}
