import { html } from 'hono/html'
import { widgetFrame } from '@dx/ui'
import type { Comment, Story } from './hn.js'
import { hnItemUrl, safeHref, siteOf } from './safe-url.js'
import type { Favorite } from './store.js'
import type { Found, Page, Source } from './stories.js'
import { plainParagraphs, timeAgo } from './text.js'

// Data only ever goes through html`` interpolation, which escapes it; raw() is never used on it.

const btnBase = 'rounded border px-2 py-0.5 text-xs'
const btn = `${btnBase} border-slate-300 hover:bg-slate-50`
const sourceQuery = (source: Source) => (source === 'sample' ? 'source=sample' : '')
const withQuery = (path: string, query: string) => (query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path)

function externalLink(href: string, text: string, cls: string) {
  return html`<a class="${cls}" href="${href}" target="_blank" rel="noopener noreferrer">${text}</a>`
}

/** The title links to the story's URL when it is http(s), to the discussion when there is none, else stays text. */
function storyTitle(s: Story) {
  const cls = 'news-title dx-user-text font-medium text-slate-900 hover:underline'
  if (!s.url) return externalLink(hnItemUrl(s.id), s.title, cls)
  const href = safeHref(s.url)
  return href ? externalLink(href, s.title, cls) : html`<span class="news-title dx-user-text font-medium text-slate-900">${s.title}</span>`
}

export function favButton(id: number, isFavorite: boolean, source: Source, oob = false) {
  const swap = html`hx-swap="none" ${oob ? html`hx-swap-oob="true"` : ''}`
  return isFavorite
    ? html`<button type="button" id="news-fav-${id}" class="news-fav ${btnBase} border-amber-400 bg-amber-50 text-amber-800 hover:bg-amber-100"
  hx-delete="${withQuery(`/news/favorites/${id}`, sourceQuery(source))}" ${swap}>Unfavourite</button>`
    : html`<button type="button" id="news-fav-${id}" class="news-fav ${btn}"
  hx-post="/news/favorites" hx-vals="${JSON.stringify({ id: String(id), source })}" ${swap}>Favourite</button>`
}

/**
 * "Details", which reads "Hide" while the details are open. A <details> with nothing but its
 * summary holds the open state (a button to the browser and to screen readers, expanded or
 * not, with no script); the panel it opens is under the whole row, shown by app.css only
 * while it is open (.dx-disclosure). The details load on the first opening and stay.
 */
function detailsToggle(id: number, source: Source) {
  return html`<details class="news-details-toggle dx-disclosure-toggle group">
  <summary class="news-details-button ${btn} cursor-pointer list-none select-none [&::-webkit-details-marker]:hidden" aria-controls="news-details-${id}"
    hx-get="${withQuery(`/news/stories/${id}`, sourceQuery(source))}" hx-trigger="click once" hx-target="#news-details-${id}" hx-swap="innerHTML"><span class="group-open:hidden">Details</span><span class="hidden group-open:inline">Hide</span></summary>
</details>`
}

function storyRow(s: Story, rank: number, source: Source, favorites: Set<number>, now: number) {
  const site = siteOf(s.url)
  return html`<li class="news-story dx-disclosure py-2" data-story-id="${s.id}">
  <div class="grid gap-x-2 @xl:grid-cols-[minmax(0,1fr)_auto]">
    <div class="min-w-0 text-sm/5">
      <span class="news-rank text-slate-400">${rank}.</span>
      ${storyTitle(s)}
      ${site ? html`<span class="news-site text-xs text-slate-500">(${site})</span>` : ''}
      <p class="news-meta text-xs text-slate-500">${s.score} points by <span class="news-by">${s.by ?? 'unknown'}</span>
        · <span class="news-age">${timeAgo(s.time, now)}</span>
        · ${externalLink(hnItemUrl(s.id), `${s.comments} comment${s.comments === 1 ? '' : 's'}`, 'news-comments hover:underline')}</p>
    </div>
    <div class="mt-1 flex items-start gap-1 @xl:mt-0">
      ${detailsToggle(s.id, source)}
      ${favButton(s.id, favorites.has(s.id), source)}
    </div>
  </div>
  <div id="news-details-${s.id}" class="news-details dx-disclosure-panel"></div>
</li>`
}

function sampleNotice(tag: 'p' | 'li') {
  const text = html`<strong>offline sample</strong> · Hacker News could not be reached, so these are bundled stories, not today's.`
  const cls = 'news-offline my-1 rounded bg-amber-50 px-2 py-1 text-xs text-amber-800'
  return tag === 'p' ? html`<p class="${cls}" role="status">${text}</p>` : html`<li class="${cls}" role="status">${text}</li>`
}

function moreRow(p: Page) {
  const next = p.offset + p.limit
  if (next >= p.total) return html`<li class="news-end py-2 text-xs text-slate-500">No more stories.</li>`
  const url = withQuery(`/news/stories?offset=${next}&limit=${p.limit}`, sourceQuery(p.source))
  return html`<li class="news-more-row pt-2">
  <button type="button" class="news-more rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50" hx-get="${url}" hx-target="closest li" hx-swap="outerHTML">Load more<span class="dx-spinner" aria-hidden="true"> …</span></button>
</li>`
}

/** The rows of a page and the row after them ("Load more" for the next page, or the end). */
export function storyRows(p: Page, favorites: Set<number>, now: number, o: { noticeSample?: boolean } = {}) {
  return html`${o.noticeSample && p.source === 'sample' ? sampleNotice('li') : ''}${p.stories.map((s, i) =>
    storyRow(s, p.offset + i + 1, p.source, favorites, now),
  )}${moreRow(p)}`
}

/**
 * The favourites, kept current in every open window: they fetch themselves again when
 * `news:favorited` or `news:unfavorited` fires on body (from this page's own buttons, whose
 * answers swap nothing but the story's button, or from another window through dx.js).
 * For this page's own action that fetch is the one update of the list, not a second one.
 * `hx-sync="this:replace"`: a newer refresh aborts one in flight rather than queue behind
 * it, since a queued one belongs to the element the first answer replaces (outerHTML) and
 * would never run, losing the newer change (two favourites in quick succession).
 * `hx-disinherit` keeps that sync off the Remove buttons inside: a refresh must never
 * abort a write.
 */
export function favoritesList(favorites: Favorite[], oob = false) {
  return html`<section id="news-favorites" class="news-favorites mt-4 border-t border-slate-200 pt-3" aria-label="Favourites"
  ${oob ? html`hx-swap-oob="true"` : ''}
  hx-get="/news/favorites" hx-trigger="news:favorited from:body, news:unfavorited from:body, dx:resync from:body" hx-swap="outerHTML"
  hx-sync="this:replace" hx-disinherit="hx-sync">
  <h3 class="mb-1 text-sm font-semibold text-slate-700">Favourites (${favorites.length})</h3>
  ${favorites.length === 0
    ? html`<p class="text-xs text-slate-500">No favourites yet: mark a story with “Favourite”.</p>`
    : html`<ul class="space-y-1">${favorites.map(favoriteRow)}</ul>`}
</section>`
}

function favoriteRow(f: Favorite) {
  const href = f.url ? safeHref(f.url) : hnItemUrl(f.id)
  const site = siteOf(f.url)
  return html`<li class="news-favorite flex items-start gap-2 text-sm" data-favorite-id="${f.id}">
  <span class="min-w-0 flex-1">${href ? externalLink(href, f.title, 'dx-user-text hover:underline') : html`<span class="dx-user-text">${f.title}</span>`}
    ${site ? html`<span class="text-xs text-slate-500">(${site})</span>` : ''}</span>
  <button type="button" class="shrink-0 ${btnBase} border-red-200 text-red-700 hover:bg-red-50" title="Remove from favourites" hx-delete="/news/favorites/${f.id}" hx-swap="none">Remove</button>
</li>`
}

/** The widget: top stories, "Load more", and the favourites list. */
export function newsWidget(p: Page, favorites: Favorite[], now: number) {
  const ids = new Set(favorites.map((f) => f.id))
  return widgetFrame(
    'news',
    'News',
    html`${p.source === 'sample' ? sampleNotice('p') : ''}
<ul class="news-stories @container max-h-[min(40rem,80vh)] divide-y divide-slate-100 overflow-y-auto dx-scroll-shadows" aria-label="Top stories">${storyRows(p, ids, now)}</ul>
${favoritesList(favorites)}`,
  )
}

function commentList(s: Story, source: Source, comments: Comment[] | 'unreachable', now: number) {
  const note = (text: string) => html`<p class="text-xs text-slate-500">${text}</p>`
  if (source === 'sample') return note('Comments are not part of the offline sample.')
  if (comments === 'unreachable') return note('The comments could not be loaded right now.')
  if (comments.length === 0) return s.comments > 0 ? note('No readable comments among the first ones.') : note('No comments yet.')
  return html`<ul class="news-comment-list mt-1 space-y-2">${comments.map(
    (c) => html`<li class="news-comment">
  <p class="text-xs text-slate-500"><span class="news-by">${c.by ?? 'unknown'}</span> · ${timeAgo(c.time, now)}</p>
  <div class="line-clamp-4 text-slate-700">${plainParagraphs(c.text).map((t) => html`<p class="dx-user-text whitespace-pre-line">${t}</p>`)}</div>
</li>`,
  )}</ul>`
}

/** A story's details, opened in place under its row. */
export function storyDetails({ story: s, source }: Found, comments: Comment[] | 'unreachable', now: number) {
  const href = safeHref(s.url)
  const link = href ? externalLink(href, href, 'break-all text-indigo-700 hover:underline') : s.url ? html`<span class="break-all">${s.url}</span> (not a web link, not opened)` : 'none (a text post)'
  const dt = 'text-slate-500'
  return html`<div class="news-detail mt-2 rounded border border-slate-200 bg-slate-50 p-3 text-sm" data-detail-id="${s.id}">
  ${source === 'sample' ? html`<p class="mb-1 text-xs text-amber-800">From the offline sample.</p>` : ''}
  <dl class="grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-0.5 text-xs">
    <dt class="${dt}">Points</dt><dd>${s.score}</dd>
    <dt class="${dt}">By</dt><dd class="news-by">${s.by ?? 'unknown'}</dd>
    <dt class="${dt}">Posted</dt><dd>${s.time === undefined ? 'unknown' : html`<time datetime="${new Date(s.time * 1000).toISOString()}">${timeAgo(s.time, now)}</time>`}</dd>
    <dt class="${dt}">Link</dt><dd>${link}</dd>
    <dt class="${dt}">Comments</dt><dd>${s.comments}</dd>
  </dl>
  ${plainParagraphs(s.text).map((t) => html`<p class="news-text dx-user-text mt-2 whitespace-pre-line text-slate-800">${t}</p>`)}
  <h4 class="mt-3 text-xs font-semibold text-slate-600">First comments</h4>
  ${commentList(s, source, comments, now)}
</div>`
}

/** The details place when the story cannot be fetched right now: not an error of the page. */
export function detailsUnavailable(id: number) {
  return html`<p class="news-detail mt-2 rounded bg-amber-50 px-2 py-1 text-xs text-amber-800" role="status">Story #${id} cannot be loaded right now: Hacker News cannot be reached.
  <button type="button" class="ml-1 underline" hx-get="/news/stories/${id}" hx-target="closest .news-details" hx-swap="innerHTML">Try again</button></p>`
}

/**
 * The body of a 400 or 404: plain text on purpose, since dx.js also shows it, as text, in
 * the widget's error line.
 */
export const message = (text: string) => html`${text}`
