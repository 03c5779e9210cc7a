import { html } from 'hono/html'
import { layout } from '@dx/ui'
import type { BusView, ReplicaStatus, ServiceStatus, StatusSnapshot } from './snapshot.js'

/**
 * The status page: every service and replica with its health in colour and in words,
 * breaker, traffic, latency and last error; the events relayed and delivered. The page
 * renders it at once and htmx fetches `/_dx/status/fragment` every 2 s (a polling
 * trigger, no eval), so it stays live under the strict CSP: no inline script or style,
 * only classes. Every value is escaped by `html`.
 */

export const FRAGMENT_PATH = '/_dx/status/fragment'
export const REFRESH_S = 2

type Tone = 'green' | 'red' | 'amber' | 'slate'

// Whole class strings, so Tailwind finds each one in this file.
const BADGE: Record<Tone, string> = {
  green: 'bg-green-100 text-green-800 ring-green-600/30',
  red: 'bg-red-100 text-red-800 ring-red-600/30',
  amber: 'bg-amber-100 text-amber-900 ring-amber-600/30',
  slate: 'bg-slate-100 text-slate-700 ring-slate-500/30',
}
const DOT: Record<Tone, string> = { green: 'bg-green-500', red: 'bg-red-500', amber: 'bg-amber-500', slate: 'bg-slate-400' }
const EDGE: Record<Tone, string> = { green: 'border-l-green-500', red: 'border-l-red-500', amber: 'border-l-amber-500', slate: 'border-l-slate-300' }
const TEXT: Record<Tone, string> = { green: 'text-green-700', red: 'text-red-700', amber: 'text-amber-800', slate: 'text-slate-700' }

const HEALTH: Record<ReplicaStatus['health'], { tone: Tone; words: string }> = {
  up: { tone: 'green', words: 'up' },
  down: { tone: 'red', words: 'down' },
  draining: { tone: 'amber', words: 'draining' },
  foreign: { tone: 'red', words: 'not a distributex service' },
  unknown: { tone: 'slate', words: 'not checked yet' },
}
const BREAKER: Record<ReplicaStatus['breaker'], Tone> = { closed: 'green', 'half-open': 'amber', open: 'red' }

const healthOf = (h: string) => HEALTH[h as ReplicaStatus['health']] ?? HEALTH.unknown

function badge(tone: Tone, words: string) {
  return html`<span class="inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${BADGE[tone]}" data-tone="${tone}"><span class="size-2 shrink-0 rounded-full ${DOT[tone]}" aria-hidden="true"></span>${words}</span>`
}

/** A service as a whole: up when every replica is, down when none is, degraded between. */
export function serviceHealth(s: ServiceStatus): { tone: Tone; words: string } {
  const n = s.replicas.length
  if (n === 0) return { tone: 'red', words: 'down: no replica configured' }
  const up = s.replicas.filter((r) => r.health === 'up').length
  if (up === n) return { tone: 'green', words: 'up' }
  if (s.replicas.every((r) => r.health === 'unknown')) return { tone: 'slate', words: 'not checked yet' }
  if (up > 0) return { tone: 'amber', words: `degraded: ${up} of ${n} replicas up` }
  if (s.replicas.every((r) => r.health === 'draining')) return { tone: 'amber', words: 'draining' }
  return { tone: 'red', words: 'down' }
}

function ms(v: number | null) {
  if (v === null || !Number.isFinite(v)) return '—'
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`
}

const rate = (v: number) => (!Number.isFinite(v) ? '—' : v < 10 ? v.toFixed(1) : String(Math.round(v)))

function duration(s: number) {
  s = Math.max(0, Math.floor(s))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`
}

/** "12 s ago", relative to the snapshot, so the reader's time zone does not matter. */
function ago(at: string, now: string) {
  const t = Date.parse(at)
  const n = Date.parse(now)
  if (!Number.isFinite(t) || !Number.isFinite(n)) return at
  return `${duration((n - t) / 1000)} ago`
}

function replicaItem(r: ReplicaStatus, time: string) {
  const h = healthOf(r.health)
  const bt = BREAKER[r.breaker] ?? 'slate'
  return html`<li class="rounded-md border border-slate-200 p-3" data-replica="${r.url}" data-health="${r.health}">
  <div class="flex flex-wrap items-center gap-2">
    <span class="font-mono text-sm break-all">${r.url}</span>
    ${badge(h.tone, h.words)}
  </div>
  ${r.reason ? html`<p class="mt-1 text-sm ${TEXT[h.tone]}">${r.reason}</p>` : ''}
  <dl class="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4">
    <div><dt class="text-xs text-slate-500">Breaker</dt><dd class="font-medium ${TEXT[bt]}">${r.breaker}</dd></div>
    <div><dt class="text-xs text-slate-500">Requests/s</dt><dd class="tabular-nums">${rate(r.rps)}</dd></div>
    <div><dt class="text-xs text-slate-500">p50</dt><dd class="tabular-nums">${ms(r.p50Ms)}</dd></div>
    <div><dt class="text-xs text-slate-500">p99</dt><dd class="tabular-nums">${ms(r.p99Ms)}</dd></div>
  </dl>
  ${
    r.lastError
      ? html`<p class="mt-2 text-sm"><span class="text-slate-500">Last error, <time datetime="${r.lastError.at}" title="${r.lastError.at}">${ago(r.lastError.at, time)}</time>:</span>
    <span class="dx-user-text text-red-700">${r.lastError.message}</span></p>`
      : html`<p class="mt-2 text-sm text-slate-500">No error since the gateway started.</p>`
  }
</li>`
}

function deliveriesLine(s: ServiceStatus) {
  const d = s.deliveries
  const bad = d.failed > 0 || d.dropped > 0
  return html`<p class="mt-3 text-sm ${bad ? 'text-red-700' : 'text-slate-600'}" data-deliveries="${s.name}">
  Events delivered to ${s.name}: <span class="tabular-nums">${d.ok}</span> ok, <span class="tabular-nums">${d.retried}</span> retried,
  <span class="tabular-nums ${d.failed > 0 ? 'font-semibold' : ''}">${d.failed}</span> failed, <span class="tabular-nums ${d.dropped > 0 ? 'font-semibold' : ''}">${d.dropped}</span> dropped
</p>`
}

function serviceCard(s: ServiceStatus, time: string) {
  const h = serviceHealth(s)
  return html`<article class="min-w-0 rounded-lg border border-l-4 border-slate-200 bg-white p-4 shadow-sm ${EDGE[h.tone]}" data-service="${s.name}" data-tone="${h.tone}">
  <header class="flex flex-wrap items-center justify-between gap-2">
    <h2 class="text-base font-semibold text-slate-800">${s.title} <span class="text-sm font-normal text-slate-500">/${s.name}</span></h2>
    ${badge(h.tone, h.words)}
  </header>
  <ul class="mt-3 space-y-3">
    ${s.replicas.length ? s.replicas.map((r) => replicaItem(r, time)) : html`<li class="text-sm text-red-700">No replica is configured for this service.</li>`}
  </ul>
  ${deliveriesLine(s)}
  <p class="mt-1 text-xs text-slate-500">${s.subscribes.length ? `Subscribes to ${s.subscribes.join(', ')}` : 'Subscribes to no events'}</p>
</article>`
}

function eventsSection(snap: StatusSnapshot) {
  const e = snap.events
  const names = Object.entries(e.relayed).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  return html`<section class="mt-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="dx-status-events">
  <h2 id="dx-status-events" class="text-base font-semibold text-slate-800">Events</h2>
  <dl class="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-3">
    <div><dt class="text-xs text-slate-500">Open event streams</dt><dd class="tabular-nums" data-sse-clients>${e.sseClients}</dd></div>
    <div><dt class="text-xs text-slate-500">Streams cut off (not reading)</dt><dd class="tabular-nums">${e.sseDropped}</dd></div>
    <div><dt class="text-xs text-slate-500">Not relayed (bad name or detail)</dt><dd class="tabular-nums ${e.notRelayed > 0 ? 'text-amber-800' : ''}">${e.notRelayed}</dd></div>
  </dl>
  ${
    names.length
      ? html`<table class="mt-3 w-full text-sm">
    <thead><tr class="border-b border-slate-200 text-left text-xs text-slate-500"><th class="py-1 font-medium">Relayed event</th><th class="py-1 text-right font-medium">Count</th></tr></thead>
    <tbody>${names.map(([name, n]) => html`<tr class="border-b border-slate-100"><td class="py-1 font-mono break-all">${name}</td><td class="py-1 text-right tabular-nums">${n}</td></tr>`)}</tbody>
  </table>`
      : html`<p class="mt-3 text-sm text-slate-500">No event relayed yet.</p>`
  }
</section>`
}

const BUS_TONE: Record<string, Tone> = { connected: 'green', connecting: 'amber', reconnecting: 'amber', closed: 'red' }

/** The bus connection: its state since when, and what waits or was refused while it is down. */
function busBadge(b: BusView, now: string) {
  const held = b.buffered > 0 ? `, ${b.buffered} held` : ''
  const refused = b.dropped > 0 ? `, ${b.dropped} refused` : ''
  return html`<span data-bus-state="${b.state}">${badge(BUS_TONE[b.state] ?? 'slate', `bus ${b.state}`)} <span class="text-xs text-slate-500">for <time datetime="${b.since}" title="${b.since}">${duration((Date.parse(now) - Date.parse(b.since)) / 1000)}</time>${held}${refused}</span></span>`
}

/** What is refreshed every 2 s: everything below the page's heading. */
export function statusFragment(snap: StatusSnapshot) {
  const g = snap.gateway
  return html`<div class="flex flex-wrap items-center gap-x-6 gap-y-2 text-sm text-slate-600">
  ${g.draining ? badge('amber', 'gateway draining') : badge('green', 'gateway serving')}
  <span>Up for ${duration(g.uptimeS)}</span>
  <span>Bus: <span class="font-mono">${g.bus}</span></span>
  ${g.busState ? busBadge(g.busState, snap.time) : ''}
  <span>Updated <time datetime="${snap.time}">${snap.time.slice(11, 19)} UTC</time></span>
</div>
<div class="mt-4 grid items-start gap-4 lg:grid-cols-2">
  ${snap.services.length ? snap.services.map((s) => serviceCard(s, snap.time)) : html`<p class="text-sm text-slate-500">No service is configured.</p>`}
</div>
${eventsSection(snap)}`
}

/** `GET /_dx/status`: the whole page, which then refreshes its content on its own. */
export function statusPage(snap: StatusSnapshot) {
  return layout({
    title: 'distributex · status',
    subtitle: `gateway status, refreshed every ${REFRESH_S} s`,
    nav: [
      { label: 'Main app', href: '/' },
      { label: 'JSON', href: '/_dx/status.json' },
      { label: 'Metrics', href: '/metrics' },
    ],
    // In a widget frame, so that dx.js shows a failed refresh (gateway gone) and hides it once one succeeds.
    body: html`<div class="min-w-0" data-dx-widget="status">
  <h1 class="sr-only">Gateway status</h1>
  <p class="dx-error mb-3 hidden rounded bg-red-50 px-2 py-1 text-sm text-red-700" role="alert"></p>
  <div id="dx-status" hx-get="${FRAGMENT_PATH}" hx-trigger="every ${REFRESH_S}s" hx-swap="innerHTML">
    ${statusFragment(snap)}
  </div>
</div>`,
  })
}
