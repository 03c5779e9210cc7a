import { html } from 'hono/html'
import { layout } from '@dx/ui'

export type Slot = {
  name: string
  title: string
  /** The widget fragment URL, loaded through the gateway. */
  widget: string
  standaloneUrl?: string
}

function slot(s: Slot) {
  // The slot loads its widget once the page is up; a down service answers with a
  // fallback that retries on its own, so the rest of the page never waits for it.
  return html`<section id="slot-${s.name}" class="dx-slot min-w-0" aria-label="${s.title}"
  hx-get="${s.widget}" hx-trigger="load" hx-swap="innerHTML">
  <div class="rounded-lg border border-dashed border-slate-300 bg-white p-4 text-sm text-slate-500">Loading ${s.title}…</div>
</section>`
}

/** The main app: a header, one slot per service, links to each standalone page. */
export function shellPage(slots: Slot[]) {
  const nav = slots.filter((s) => s.standaloneUrl).map((s) => ({ label: `${s.title} standalone ↗`, href: s.standaloneUrl! }))
  return layout({
    title: 'distributex',
    subtitle: 'independent services, one page',
    nav,
    body: html`<div class="grid grid-cols-1 gap-6 md:grid-cols-2 xl:grid-cols-3">${slots.map(slot)}</div>`,
  })
}
