import type { ServerResponse } from 'node:http'
import { html } from 'hono/html'
import { layout } from '@dx/ui'
import { securityHeaders } from '@dx/kit'

/** Every HTML page the gateway writes itself carries these. */
export const pageHeaders = securityHeaders()

/** Why the gateway answered instead of the service; sent as `X-Dx-Fallback`. */
export type FailReason =
  | 'refused'
  | 'connect-timeout'
  | 'no-upstream'
  | 'upstream-error'
  | 'timeout'
  | 'connection-lost'
  | 'upstream-5xx'

export const statusFor: Record<FailReason, number> = {
  refused: 502,
  'connect-timeout': 504,
  'no-upstream': 503,
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

const explain: Record<FailReason, string> = {
  refused: 'it refused the connection',
  'connect-timeout': 'it could not be reached in time',
  'no-upstream': 'no instance of it is configured',
  'upstream-error': 'the connection to it failed',
  timeout: 'it did not answer in time',
  'connection-lost': 'the connection to it broke before it answered',
  'upstream-5xx': 'it answered with an error',
}

/**
 * The fragment an htmx GET gets when a service is down: 200 so htmx swaps it in, and it
 * asks for the same URL again on its own, replacing itself once the service is back.
 */
export function fallbackFragment(title: string, url: string, reason: FailReason, retryS = 3) {
  return html`<div class="dx-fallback rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900"
  role="status" data-dx-fallback="${reason}"
  hx-get="${url}" hx-trigger="load delay:${retryS}s" hx-swap="outerHTML">
  <p class="font-medium">${title} is unavailable right now — retrying…</p>
  <p class="mt-1 text-xs text-amber-700">The gateway could not reach the ${title.toLowerCase()} service (${explain[reason]}). This box refreshes itself every ${retryS} seconds.</p>
</div>`
}

/** The page a browser navigation gets when a service is down: a real error with a real status. */
export function errorPage(title: string, reason: FailReason, status: number) {
  return layout({
    title: 'distributex',
    subtitle: `${status} ${reason}`,
    nav: [{ label: 'Main app', href: '/' }],
    body: html`<div class="rounded-lg border border-red-200 bg-white p-6">
  <h1 class="text-xl font-semibold text-red-800">${title} is unavailable (${status})</h1>
  <p class="mt-2 text-slate-700">The gateway could not reach the ${title.toLowerCase()} service: ${explain[reason]}.</p>
  <p class="mt-2 text-slate-700">Try again in a moment, or go back to the <a class="text-indigo-700 underline" href="/">main app</a>, which keeps working without it.</p>
</div>`,
  })
}

/** A plain message for a failed write: htmx keeps the form as typed and dx.js shows this. */
export function writeError(title: string, reason: FailReason) {
  return mayHaveReached(reason)
    ? `${title} did not confirm your change (${explain[reason]}): it may have been saved. Check before you try again.`
    : `${title} is unavailable right now (${explain[reason]}): your change was not saved. Try again in a moment.`
}

export async function sendHtml(res: ServerResponse, status: number, body: String | Promise<String>, headers: Record<string, string> = {}) {
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
