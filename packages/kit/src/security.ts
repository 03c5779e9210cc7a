/**
 * Browser-side defences shared by the gateway and every service: the headers every HTML
 * response carries, and the rule that refuses writes from other sites.
 */
import { devOrigin } from '@dx/ui'

/**
 * A strict CSP: scripts and styles only from our own files, no inline script, no eval, no
 * framing. `connect` adds origins that pages may open connections to (a standalone page
 * talks to the gateway's event stream). `dev` is `make watch`'s reload stream (DX_DEV=1
 * only; otherwise undefined and nothing is added).
 */
export function contentSecurityPolicy(connect: readonly string[] = [], dev = devOrigin()): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...connect, ...(dev ? [dev] : [])].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** The headers of an HTML response; compute once and reuse, they do not change per request. */
export function securityHeaders(connect: readonly string[] = []): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(connect),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export type CrossSiteInput = {
  method: string
  /** The request's `Host` (and, behind a trusted proxy, `X-Forwarded-Host`): the origin's own host. */
  hosts: readonly (string | undefined)[]
  origin?: string
  secFetchSite?: string
  /** Other origins allowed to write, as `scheme://host:port`. */
  allowed?: ReadonlySet<string>
}

const hostOf = (origin: string) => {
  const i = origin.indexOf('://')
  return i < 0 ? '' : origin.slice(i + 3).toLowerCase()
}

/**
 * Whether a browser's `Origin` is this site (its host is the request's `Host`) or one of
 * the allowed origins. `null` (sandboxed frames, some redirects) is never either.
 */
export function originAllowed(origin: string, hosts: readonly (string | undefined)[], allowed?: ReadonlySet<string>): boolean {
  if (origin === 'null') return false
  const host = hostOf(origin)
  if (host && hosts.some((h) => h !== undefined && h.toLowerCase() === host)) return true
  return allowed?.has(origin.toLowerCase()) ?? false
}

/**
 * Returns why a request is refused as a cross-site write, or null when it may go on.
 * Browsers send `Sec-Fetch-Site` and `Origin` on every write; a request with neither
 * comes from a program (curl, another service), which CSRF cannot forge.
 */
export function crossSiteRefusal({ method, hosts, origin, secFetchSite, allowed }: CrossSiteInput): string | null {
  if (SAFE_METHODS.has(method)) return null
  if (secFetchSite === 'same-origin' || secFetchSite === 'none') return null
  if (origin !== undefined) {
    if (originAllowed(origin, hosts, allowed)) return null
    return `Cross-site request refused: a ${method} from ${origin.slice(0, 100)} may not change data here.`
  }
  if (secFetchSite === 'cross-site' || secFetchSite === 'same-site') {
    return `Cross-site request refused: a ${method} from another site may not change data here.`
  }
  return null
}

/** `http://a:1, https://b` → a set of lowercase origins; bad entries are skipped. */
export function originList(...values: (string | undefined)[]): Set<string> {
  const out = new Set<string>()
  for (const v of values) {
    for (const part of (v ?? '').split(',')) {
      try {
        const u = new URL(part.trim())
        if (u.protocol === 'http:' || u.protocol === 'https:') out.add(u.origin.toLowerCase())
      } catch {
        // not a URL: ignored
      }
    }
  }
  return out
}
