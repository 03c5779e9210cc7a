import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { assetUrl } from './assets.js'
import { DEV_SCRIPT, devOrigin } from './dev.js'

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

export type NavLink = { label: string; href: string }

export type LayoutProps = {
  title: string
  body: Html
  /** Shown under the title: where this page lives in the system. */
  subtitle?: string
  nav?: NavLink[]
  /**
   * The gateway's origin, on standalone pages: dx.js reads the relayed events from
   * `<gateway>/_dx/events` (the page's CSP `connect-src` must allow it). Left out on the
   * gateway's own pages, which read them from their own origin.
   */
  gateway?: string
  /** The page's id, when the server made one: dx.js sends it as `X-Dx-Client`. */
  client?: string
}

// htmx swaps 2xx by default and ignores 4xx; we also swap 422 so a form comes back with
// its message and what the user typed. Other 4xx/5xx raise htmx:responseError, which
// dx.js shows next to the widget.
// The pages' CSP allows no inline style and no eval: htmx must not inject its indicator
// <style> (app.css has those rules) nor evaluate attributes (hx-on, trigger filters, js: vals).
const htmxConfig = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true },
    { code: '404', swap: true, error: true },
    { code: '[45]..', swap: false, error: true },
  ],
})

/** The one page frame used by the main app and every standalone service page. */
export function layout({ title, body, subtitle, nav = [], gateway, client }: LayoutProps) {
  // `make watch` only (DX_DEV=1): the page follows the runner's reload stream.
  const dev = devOrigin()
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="htmx-config" content="${htmxConfig}" />
    ${gateway ? html`<meta name="dx-gateway" content="${gateway}" />` : ''}
    ${client ? html`<meta name="dx-client" content="${client}" />` : ''}
    <title>${title}</title>
    <link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml" />
    <link rel="stylesheet" href="${assetUrl('app.css')}" />
    <script src="${assetUrl('htmx.min.js')}" defer></script>
    <script src="${assetUrl('ws.min.js')}" defer></script>
    <script src="${assetUrl('sse.min.js')}" defer></script>
    <script src="${assetUrl('dx.js')}" defer></script>
    ${dev ? html`<meta name="dx-dev" content="${dev}" />
    <script src="${assetUrl(DEV_SCRIPT)}" defer></script>` : ''}
  </head>
  <body class="min-h-screen bg-slate-100 text-slate-900 antialiased">
    <header class="border-b border-slate-200 bg-white">
      <div class="mx-auto flex max-w-6xl flex-col gap-1 px-4 py-3 md:flex-row md:items-baseline md:gap-6">
        <div class="flex min-w-0 flex-wrap items-baseline gap-x-4">
          <a href="/" class="text-lg font-semibold tracking-tight text-indigo-700">${title}</a>
          ${subtitle ? html`<span class="text-sm text-slate-500">${subtitle}</span>` : ''}
        </div>
        ${nav.length === 0 ? '' : html`<nav class="dx-nav text-sm md:ml-auto">
          <ul class="grid grid-cols-[repeat(auto-fill,minmax(9rem,1fr))] gap-x-4 md:flex md:flex-wrap md:justify-end">
            ${nav.map((l) => html`<li><a class="inline-block py-1 whitespace-nowrap text-slate-600 hover:text-indigo-700 hover:underline" href="${l.href}">${l.label}</a></li>`)}
          </ul>
        </nav>`}
      </div>
    </header>
    <main class="mx-auto max-w-6xl px-4 py-6 wrap-anywhere">${body}</main>
  </body>
</html>`
}

/** The frame every widget sits in, so errors have a place to show in any page. */
export function widgetFrame(name: string, title: string, inner: Html) {
  return html`<div class="dx-widget min-w-0 rounded-lg border border-slate-200 bg-white p-4 shadow-sm wrap-anywhere" data-dx-widget="${name}">
  <h2 class="mb-3 text-base font-semibold text-slate-800">${title}</h2>
  <p class="dx-error mb-2 hidden rounded bg-red-50 px-2 py-1 text-sm text-red-700" role="alert"></p>
  ${inner}
</div>`
}
