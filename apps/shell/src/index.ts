import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { layout } from '@dx/ui'

export type Slot = {
  name: string
  title: string
  /** The widget fragment URL, loaded through the gateway. */
  widget: string
  standaloneUrl?: string
}

/** Where a slot goes in the shell; the gateway fills it as the page streams. */
export const slotMarker = (name: string) => `<!--dx:slot:${name}-->`

/** Where the page's client id goes (`X-Dx-Client` of its widgets' requests). */
export const CLIENT_MARKER = 'dx-client-id-here'

const sectionAttrs = (s: Slot) => html`id="slot-${s.name}" class="dx-slot min-w-0" aria-label="${s.title}"`

/** A slot the gateway filled on the server: the widget is in the first response. */
export function filledSlot(s: Slot, inner: string | HtmlEscapedString) {
  return html`<section ${sectionAttrs(s)}>${raw(inner)}</section>`
}

/**
 * A slot left to the browser: it asks for its widget once the page is up. A service that
 * was late for the server gets a second chance here without holding the page.
 */
export function loadingSlot(s: Slot) {
  return html`<section ${sectionAttrs(s)} hx-get="${s.widget}" hx-trigger="load" hx-swap="innerHTML">
  <div class="rounded-lg border border-dashed border-slate-300 bg-white p-4 text-sm text-slate-500">Loading ${s.title}&hellip;</div>
</section>`
}

/**
 * The main app: a header, one slot per service, links to each standalone page. Edit the
 * markup freely; each slot marker is replaced by that service's section as the page streams.
 */
export function shellPage(slots: Slot[]) {
  const nav = slots.filter((s) => s.standaloneUrl).map((s) => ({ label: `${s.title} standalone ↗`, href: s.standaloneUrl! }))
  return layout({
    title: 'distributex',
    subtitle: 'independent services, one page',
    nav,
    client: CLIENT_MARKER,
    body: html`<div class="grid grid-cols-1 gap-6 md:grid-cols-2 xl:grid-cols-3">${slots.map((s) => raw(slotMarker(s.name)))}</div>`,
  })
}
