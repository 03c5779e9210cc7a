import { raw } from 'hono/html'
import { assetRoutes } from './assets.js'
import { layout } from './layout.js'

/**
 * The markers of the layout template (`/assets/layout.html`, `dist/layout.html`): a
 * service in another language replaces each one, every time it occurs, with its value —
 * HTML-escaped for all but `slot`, which takes the page's own HTML.
 */
export const MARKERS = {
  title: '<!--dx:title-->',
  subtitle: '<!--dx:subtitle-->',
  /** The gateway's URL, no trailing slash: the "Main app" link, the event stream, the assets. */
  gateway: '<!--dx:gateway-->',
  slot: '<!--dx:slot-->',
} as const

// Plain words survive the layout's escaping unchanged; each becomes its marker afterwards.
const TOKENS = { title: 'dxmarkertitle', subtitle: 'dxmarkersubtitle', gateway: 'dxmarkergateway' } as const

/**
 * The layout every page uses, as a plain HTML template: the same markup, classes and
 * hashed asset URLs as the TypeScript services' pages, with the assets fetched from the
 * gateway (`<!--dx:gateway-->/assets/…`) so a page on another origin looks the same.
 */
export async function layoutTemplate(): Promise<string> {
  const page = String(
    await layout({
      title: TOKENS.title,
      subtitle: TOKENS.subtitle,
      nav: [{ label: 'Main app', href: TOKENS.gateway }],
      gateway: TOKENS.gateway,
      body: raw(MARKERS.slot),
    }),
  )
  return page
    .replaceAll(TOKENS.subtitle, MARKERS.subtitle)
    .replaceAll(TOKENS.title, MARKERS.title)
    .replaceAll(TOKENS.gateway, MARKERS.gateway)
    .replaceAll('"/assets/', `"${MARKERS.gateway}/assets/`)
}

/**
 * Values for `fillTemplate`; the slot is HTML the caller made safe, the rest is text.
 */
export type TemplateValues = { title: string; subtitle: string; gateway: string; slot: string }

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)

/** What a service in another language does with the template (here for tests and docs). */
export function fillTemplate(template: string, v: TemplateValues): string {
  // The slot goes last, so a marker inside the page's own HTML is left as it is.
  return template
    .replaceAll(MARKERS.title, escapeHtml(v.title))
    .replaceAll(MARKERS.subtitle, escapeHtml(v.subtitle))
    .replaceAll(MARKERS.gateway, escapeHtml(v.gateway.replace(/\/+$/, '')))
    .replace(MARKERS.slot, () => v.slot)
}

/** `/assets/*` with the layout template at `/assets/layout.html` (always the current hashes). */
export function assets() {
  return assetRoutes({ extra: { 'layout.html': async () => ({ body: await layoutTemplate(), type: 'text/html; charset=utf-8' }) } })
}
