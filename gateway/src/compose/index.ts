import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CLIENT_MARKER, filledSlot, loadingSlot, shellPage, slotMarker, type Slot } from '@dx/shell'
import { ACTOR_COOKIE, eventsOf, type AppLogger, type HxEvent } from '@dx/kit'
import { assetUrl } from '@dx/ui'
import type { GatewayConfig } from '../config.js'
import type { Cause } from '../events/relay.js'
import { fallbackFragment, pageHeaders, rawLookup, staleFragment, type LastGood } from '../fallback.js'
import { cookieValue } from '../proxy/forward.js'
import { readHead } from '../proxy/headers.js'
import type { Route } from '../proxy/route.js'
import { SlotFetcher, type SlotFetch } from './slot.js'

export type ComposeHooks = {
  routes: Map<string, Route>
  lastGood: LastGood
  log: AppLogger
  mark?: string
  onEvents?: (service: string, events: HxEvent[], cause: Cause) => void
}

/** A fragment bigger than this is left to the browser rather than held in the page. */
const MAX_FRAGMENT_BYTES = 512 * 1024

// A navigation's headers that an htmx request would not send, or that would make a
// fragment answer something other than itself (304, 206).
const NOT_FOR_FRAGMENTS = new Set([
  'accept', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range',
  'sec-fetch-dest', 'sec-fetch-mode', 'sec-fetch-user', 'upgrade-insecure-requests', 'x-dx-client', 'priority',
])

/** The headers a widget request gets: the page request's, as an htmx request of this page. */
export function fragmentHeaders(upstream: string[], client: string): string[] {
  const out: string[] = []
  for (let i = 0; i < upstream.length; i += 2) {
    const key = upstream[i].toLowerCase()
    if (NOT_FOR_FRAGMENTS.has(key) || key.startsWith('hx-')) continue
    out.push(upstream[i], upstream[i + 1])
  }
  out.push('Accept', 'text/html', 'HX-Request', 'true', 'X-Dx-Client', client)
  return out
}

type Part = { slot: Slot & { route: Route }; after: string }
type Shell = { before: string; afterClient: string; parts: Part[] }

/** The assets the layout links, whose hashes the rendered shell depends on. */
const LINKED = ['app.css', 'htmx.min.js', 'ws.min.js', 'sse.min.js', 'dx.js', 'favicon.svg']

/**
 * `GET /`: the main app composed on the server. Every widget is requested at once; the head
 * and the layout leave at once, so CSS and htmx load while the widgets are fetched, and
 * each slot follows in page order as soon as it and those before it are ready. A slot late
 * for its budget is sent as a placeholder the browser loads; a failing one as its stale copy
 * or its fallback. The page is never held longer than the largest budget.
 */
export function createComposer(cfg: GatewayConfig, hooks: ComposeHooks) {
  const slots = cfg.services.map((s) => ({ name: s.name, title: s.title, widget: s.widget, standaloneUrl: s.standaloneUrl, route: hooks.routes.get(s.prefix)! }))
  // The shell, cut at its markers, is the same for every page until an asset it links is
  // rebuilt (a new content hash under make watch): it is rendered again only then.
  let shell: { key: string; page: Promise<Shell> } | undefined
  function cachedShell(): Promise<Shell> {
    const key = LINKED.map(assetUrl).join(' ')
    if (shell?.key !== key) shell = { key, page: build() }
    return shell.page
  }

  async function build(): Promise<Shell> {
    let rest = String(await shellPage(slots))
    const parts: Part[] = []
    let head = ''
    for (const [i, slot] of slots.entries()) {
      const at = rest.indexOf(slotMarker(slot.name))
      if (at < 0) throw new Error(`the shell has no marker for the ${slot.name} slot`)
      if (i === 0) head = rest.slice(0, at)
      else parts[i - 1].after = rest.slice(0, at)
      parts.push({ slot, after: '' })
      rest = rest.slice(at + slotMarker(slot.name).length)
    }
    if (parts.length) parts[parts.length - 1].after = rest
    else head = rest
    const cut = head.indexOf(CLIENT_MARKER)
    return { before: head.slice(0, cut), afterClient: head.slice(cut + CLIENT_MARKER.length), parts }
  }

  async function slotHtml(part: Part, got: SlotFetch, lookup: ReturnType<typeof rawLookup>, cause: Cause): Promise<string> {
    const { slot } = part
    if (got.kind === 'ok') {
      keep(slot.route, got, lookup)
      relay(slot.route, got.headers, cause)
      return String(await filledSlot(slot, got.body.toString('utf8')))
    }
    if (got.kind === 'late') return String(await loadingSlot(slot))
    const copy = hooks.lastGood.find(slot.widget, lookup)
    slot.route.metrics.fallback(copy ? 'stale' : 'fallback')
    const inner = copy ? staleFragment(slot.title, slot.widget, copy, got.reason) : fallbackFragment(slot.title, slot.widget, got.reason)
    return String(await filledSlot(slot, String(await inner)))
  }

  // As the proxy does for a widget fragment: the last good copy for when the service fails.
  function keep(route: Route, got: Extract<SlotFetch, { kind: 'ok' }>, lookup: ReturnType<typeof rawLookup>) {
    if (!hooks.lastGood.cacheable(200, got.headers)) return
    let vary: string | undefined
    for (let i = 0; i < got.headers.length; i += 2) if (got.headers[i] === 'vary') vary = vary ? `${vary}, ${got.headers[i + 1]}` : got.headers[i + 1]
    const key = hooks.lastGood.keyOf(route.service.widget, vary, lookup)
    if (key) hooks.lastGood.put(key, got.body)
  }

  function relay(route: Route, headers: string[], cause: Cause) {
    const byName: Record<string, string[]> = {}
    for (let i = 0; i < headers.length; i += 2) if (headers[i].startsWith('hx-trigger')) (byName[headers[i]] ??= []).push(headers[i + 1])
    if (Object.keys(byName).length === 0) return
    const events = eventsOf(byName, (h, v) => hooks.log.warn(`${route.service.name} sent a malformed ${h} header`, v))
    if (events.length) hooks.onEvents?.(route.service.name, events, cause)
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    // Each slot's budget runs from the moment the request came in.
    const started = Date.now()
    const page = await cachedShell()
    const headers = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...pageHeaders }
    if (req.method === 'HEAD') return void res.writeHead(200, headers).end()
    const client = randomBytes(18).toString('base64url')
    const head = readHead(req, cfg.trustForwarded, hooks.mark)
    const upstream = fragmentHeaders(head.upstream, client)
    const lookup = rawLookup(upstream)
    const cause: Cause = { actor: cookieValue(head.cookie, ACTOR_COOKIE), client }
    const pending = page.parts.map((p) => new SlotFetcher(p.slot.route, upstream, started + p.slot.route.service.composeBudgetMs, MAX_FRAGMENT_BYTES))
    res.once('close', () => {
      for (const f of pending) f.cancel()
    })
    res.writeHead(200, headers)
    res.write(page.before + client + page.afterClient)
    for (const [i, part] of page.parts.entries()) {
      const html = await slotHtml(part, await pending[i].result, lookup, cause)
      if (res.destroyed) return
      res.write(html + part.after)
    }
    res.end()
  }

  return { handle }
}
