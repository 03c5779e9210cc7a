import type { ServerResponse } from 'node:http'
import { html } from 'hono/html'
import { layout } from '@dx/ui'

/** Why the gateway answered instead of the service; sent as `X-Dx-Fallback`. */
export type FailReason = 'refused' | 'timeout' | 'upstream-5xx' | 'no-upstream' | 'upstream-error'

export const statusFor: Record<FailReason, number> = {
  refused: 502,
  timeout: 504,
  'upstream-5xx': 502,
  'no-upstream': 503,
  'upstream-error': 502,
}

const explain: Record<FailReason, string> = {
  refused: 'it refused the connection',
  timeout: 'it did not answer in time',
  'upstream-5xx': 'it answered with an error',
  'no-upstream': 'no instance of it is configured',
  'upstream-error': 'the connection to it failed',
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
  return `${title} is unavailable (${reason}): your change was not saved.`
}

export async function sendHtml(res: ServerResponse, status: number, body: String | Promise<String>, headers: Record<string, string> = {}) {
  const text = String(await body)
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}
