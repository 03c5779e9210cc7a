// Just enough HTML reading for the checks: is it a document or a fragment, and which URLs
// do its attributes name. A regex over attributes is fine here: the checker reads markup
// the service meant a browser to read, and reports what it sees.

/** A whole page: a doctype, then <html>, <head> and <body>. */
export function isFullDocument(text: string): boolean {
  return /^\s*<!doctype html>/i.test(text) && /<html[\s>]/i.test(text) && /<head[\s>]/i.test(text) && /<body[\s>]/i.test(text)
}

/** Why a fragment is not one (a page's frame in it), or null. */
export function fragmentProblem(text: string): string | null {
  for (const [re, what] of [
    [/<!doctype/i, '<!doctype>'],
    [/<html[\s>]/i, '<html>'],
    [/<head[\s>]/i, '<head>'],
    [/<body[\s>]/i, '<body>'],
  ] as const) {
    if (re.test(text)) return `it contains ${what}: a widget is a fragment placed inside the main page`
  }
  if (!/<[a-z]/i.test(text)) return 'it has no HTML element'
  return null
}

/** Attributes whose value is a URL the browser fetches or goes to. */
export const URL_ATTRIBUTES = ['href', 'src', 'action', 'formaction', 'hx-get', 'hx-post', 'hx-put', 'hx-patch', 'hx-delete', 'ws-connect', 'sse-connect'] as const
const REQUESTS = new Set(['hx-get', 'hx-post', 'hx-put', 'hx-patch', 'hx-delete', 'ws-connect', 'sse-connect', 'action', 'formaction'])

const decode = (v: string) =>
  v.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!)

export type UrlAttr = { attr: string; value: string }

export function urlAttributes(text: string): UrlAttr[] {
  const out: UrlAttr[] = []
  const re = new RegExp(`\\s(${URL_ATTRIBUTES.join('|')})\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'gi')
  for (const m of text.matchAll(re)) out.push({ attr: m[1].toLowerCase(), value: decode(m[3] ?? m[4] ?? m[5] ?? '') })
  return out
}

/**
 * Why a URL in a widget breaks prefix discipline, or null. The widget is placed in the
 * main page at `/`, so a relative path would resolve against the gateway's root, and a
 * request to another origin would bypass the gateway.
 */
export function prefixProblem(a: UrlAttr, prefix: string): string | null {
  const v = a.value.trim()
  if (v === '' || v.startsWith('#')) return null
  if (/^javascript:/i.test(v)) return `${a.attr}="${v.slice(0, 60)}" is a script URL`
  if (/^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith('//')) {
    // A plain link to another site is fine; a request that skips the gateway is not.
    return REQUESTS.has(a.attr) ? `${a.attr}="${v.slice(0, 80)}" goes to another origin, not through the gateway under ${prefix}` : null
  }
  if (!v.startsWith('/')) return `${a.attr}="${v.slice(0, 80)}" is relative: in the main page it resolves against /, outside ${prefix}`
  const path = v.split(/[?#]/)[0]
  if (path === prefix || path.startsWith(`${prefix}/`) || path.startsWith('/assets/')) return null
  return `${a.attr}="${v.slice(0, 80)}" is outside ${prefix}`
}

/** The first stylesheet and script URLs of a page, for the shared-look check. */
export function linkedAssets(text: string): { css: string[]; js: string[] } {
  const css = [...text.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/gi)].map((m) => decode(m[1]))
  const js = [...text.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/gi)].map((m) => decode(m[1]))
  return { css, js }
}
