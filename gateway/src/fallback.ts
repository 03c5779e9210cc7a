import type { ClientResponse } from './proxy/forward.js'
import { html, raw } from 'hono/html'
import { layout } from '@dx/ui'
import { securityHeaders } from '@dx/kit'
import type { LastGoodEntry } from './fallback/last-good.js'

export { LastGood, rawLookup, normalizeVary, LAST_GOOD_DEFAULTS } from './fallback/last-good.js'
export type { LastGoodOptions, LastGoodKey, LastGoodEntry, LastGoodStats, HeaderLookup } from './fallback/last-good.js'

/** Every HTML page the gateway writes itself carries these. */
export const pageHeaders = securityHeaders()

/** Why the gateway answered instead of the service; sent as `X-Dx-Fallback`. */
export type FailReason =
  | 'refused'
  | 'connect-timeout'
  | 'no-upstream'
  | 'unavailable'
  | 'upstream-error'
  | 'timeout'
  | 'connection-lost'
  | 'upstream-5xx'

export const statusFor: Record<FailReason, number> = {
  refused: 502,
  'connect-timeout': 504,
  'no-upstream': 503,
  unavailable: 503,
  'upstream-error': 502,
  timeout: 504,
  'connection-lost': 502,
  'upstream-5xx': 502,
}

/**
 * Failures after the request may have reached the service: it may have acted on it, so a
 * write must not be reported as "not saved" (a user who retries would get a duplicate).
 */
export const mayHaveReached = (reason: FailReason) => reason === 'timeout' || reason === 'connection-lost'

/**
 * Why, for whoever runs the system: shown small, after the words for users, which say only
 * what happened to them and what to do (every reason reads the same to a user).
 */
export const technicalReason: Record<FailReason, string> = {
  refused: 'connection refused',
  'connect-timeout': 'connection timed out',
  'no-upstream': 'no instance configured',
  unavailable: 'every instance down or failing',
  'upstream-error': 'connection failed',
  timeout: 'no answer in time',
  'connection-lost': 'connection lost before the answer',
  'upstream-5xx': 'the service answered with an error',
}

/** The small print under a fallback: how it recovers, then the technical reason. */
const smallPrint = (reason: FailReason, retryS: number) =>
  `Trying again every ${retryS} seconds. Technical detail: ${technicalReason[reason]}.`

/**
 * The fragment an htmx GET gets when a service is down: 200 so htmx swaps it in, and it
 * asks for the same URL again on its own, replacing itself once the service is back.
 */
export function fallbackFragment(title: string, url: string, reason: FailReason, retryS = 3) {
  return html`<div class="dx-fallback rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900"
  role="status" data-dx-fallback="${reason}"
  hx-get="${url}" hx-trigger="load delay:${retryS}s" hx-swap="outerHTML">
  <p class="font-medium">${title} is unavailable right now</p>
  <p class="mt-1">The rest of the page works as usual, and ${title} will appear here by itself when it is back.</p>
  <p class="dx-fallback-detail mt-2 text-xs text-amber-700">${smallPrint(reason, retryS)}</p>
</div>`
}

/** "2 minutes ago": how old a stale copy is, in words. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 10) return 'a few seconds ago'
  if (s < 60) return `${s} seconds ago`
  const m = Math.floor(s / 60)
  if (m < 60) return m === 1 ? '1 minute ago' : `${m} minutes ago`
  const h = Math.floor(m / 60)
  return h === 1 ? '1 hour ago' : `${h} hours ago`
}

/**
 * What an htmx GET gets instead of the fallback when its service fails and a last good copy
 * is cached (LastGood.find): status 200 with `staleHeaders(entry)`, sent by `sendHtml`.
 *
 * A banner says the copy is stale, whose it is and how old; the copy follows, inside a
 * `<fieldset disabled hx-disable>` that takes no box of its own (`display: contents`):
 * - `disabled` switches off every input, select, textarea and button inside, natively: a
 *   disabled control gets no clicks and no focus, so no hx-post/hx-delete on it can fire
 *   and no form inside can be submitted;
 * - `hx-disable` makes htmx ignore every hx-* attribute inside, so no element of the copy
 *   sends anything either (a clickable non-control, an `every 2s` poll, or a refresh on an
 *   event, whose answer — maybe another stale copy — would otherwise land inside this one).
 *   The ws and sse extensions start from that processing too, so an `hx-ext` inside the
 *   copy opens no socket (one named on an ancestor outside it would still scan the copy).
 *
 * The wrapper itself asks for the same URL after `retryS` and replaces itself with the
 * answer (`hx-target="this"`, `hx-swap="outerHTML"`): the live fragment once the service
 * is back, a fresher stale copy while it is down. It is never nested: the answer takes the
 * wrapper's place, never a place inside the copy. Its ids are those the live answer would
 * have brought to the same place, once; copies with out-of-band swaps or hx-preserve, which
 * move elements by id, are never kept (LastGood.put).
 *
 * The copy is the service's own output, escaped by it when it was made; the title and the
 * age added here are escaped by `html`.
 */
export function staleFragment(title: string, url: string, entry: LastGoodEntry, reason: FailReason, opts: { now?: number; retryS?: number } = {}) {
  const now = opts.now ?? Date.now()
  const retryS = opts.retryS ?? 3
  const when = new Date(entry.storedAt).toISOString()
  return html`<div class="dx-stale" data-dx-stale="${reason}"
  hx-get="${url}" hx-trigger="load delay:${retryS}s" hx-target="this" hx-swap="outerHTML">
<div class="dx-stale-banner mb-2 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" role="status">
  <p><span class="font-semibold">${title} is unavailable right now.</span> This is a saved copy from <time datetime="${when}">${ago(now - entry.storedAt)}</time>: you can read it, and changes are off until ${title} is back.</p>
  <p class="dx-fallback-detail mt-1 text-xs text-amber-700">${smallPrint(reason, retryS)}</p>
</div>
<fieldset class="dx-stale-copy contents" disabled hx-disable>${raw(entry.body.toString('utf8'))}</fieldset>
</div>`
}

/** The headers of a stale copy (with `sendHtml`, which adds content type, no-store and CSP). */
export function staleHeaders(entry: LastGoodEntry, now = Date.now()): Record<string, string> {
  return { 'x-dx-fallback': 'stale', vary: 'HX-Request', age: String(Math.max(0, Math.floor((now - entry.storedAt) / 1000))) }
}

/** The page a browser navigation gets when a service is down: a real error with a real status. */
export function errorPage(title: string, reason: FailReason, status: number) {
  return layout({
    title: 'distributex',
    nav: [{ label: 'Main app', href: '/' }],
    body: html`<div class="dx-error-page mx-auto max-w-2xl rounded-lg border border-red-200 bg-white p-6">
  <h1 class="text-xl font-semibold text-red-800">${title} is unavailable right now</h1>
  <p class="mt-2 text-slate-700">This page cannot be shown at the moment. <a class="text-indigo-700 underline" href="">Try again</a> in a minute, or go back to the <a class="text-indigo-700 underline" href="/">main app</a>: everything else there keeps working.</p>
  <p class="dx-fallback-detail mt-4 text-xs text-slate-500">Error ${status}. Technical detail: ${technicalReason[reason]}.</p>
</div>`,
  })
}

/** A plain message for a failed write: htmx keeps the form as typed and dx.js shows this. */
export function writeError(title: string, reason: FailReason) {
  return mayHaveReached(reason)
    ? `${title} did not confirm your change, so it may or may not have been saved. Check before you try again. (${technicalReason[reason]})`
    : `${title} is unavailable right now, so your change was not saved. Try again in a moment. (${technicalReason[reason]})`
}

export async function sendHtml(res: ClientResponse, status: number, body: String | Promise<String>, headers: Record<string, string> = {}) {
  const text = String(await body)
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...pageHeaders,
    ...headers,
  })
  res.end(text)
}
