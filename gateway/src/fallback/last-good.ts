import { createHash } from 'node:crypto'

/**
 * The last good copy of each widget fragment, served marked stale (see `staleFragment` in
 * ../fallback.ts) when its service fails. A bounded LRU: at most `maxEntries` copies and
 * `maxBytes` in all, none older than `maxAgeMs` when served, none over `maxEntryBytes`.
 *
 * Only what is safe to show again to whoever sends the same request is kept: a 2xx
 * text/html answer to an htmx GET, which sets no cookie, is not `no-store` or `private`, is
 * not compressed, and does not depend on headers htmx would act on (redirects, retargets).
 * A service whose fragment depends on a request header says so with `Vary` (`Vary: Cookie`
 * keeps one copy per cookie value); `Vary: *` is never kept.
 *
 * ## Integration in proxy/forward.ts (for the lead)
 *
 * One `LastGood` per gateway, shared by every exchange (e.g. in `ForwardShared.lastGood`).
 *
 * On success, in `respond(status, raw, …)`, only for `this.htmx && req.method === 'GET'`
 * (never HEAD: its answer has no body) and a request without a body:
 *
 *     const h = responseHeaders(raw)
 *     const key = lastGood.cacheable(status, h.headers) ? lastGood.keyOf(req.url!, h.vary, rawLookup(req.rawHeaders)) : undefined
 *     // else, for a 2xx: lastGood.forget(req.url!) — the service no longer lets it be kept
 *
 *   (`h.headers` lacks `Vary`, which `responseHeaders` takes out: it goes in as `h.vary`.)
 *   With a key, collect the chunks passed to `write()` (references, no copy) while their
 *   total stays within `lastGood.maxEntryBytes`; stop collecting (drop them) past it. In
 *   `complete()` — the whole body arrived, never after an abort, a stall or a cut-off —
 *   call `lastGood.put(key, Buffer.concat(chunks, total))`. `put` refuses what it must not
 *   keep (too big, empty, markup that would misbehave when shown again), so its result
 *   needs no handling. Nothing here delays the response: the client gets each chunk as
 *   before.
 *
 * On failure, in `fail(reason)`, for `this.htmx && this.isRead` (the branch that sends
 * `fallbackFragment` today):
 *
 *     const copy = req.method === 'GET' ? lastGood.find(req.url!, rawLookup(req.rawHeaders)) : undefined
 *     if (copy) return void sendHtml(res, 200, staleFragment(service.title, req.url ?? service.widget, copy, reason),
 *       staleHeaders(copy)).catch(() => res.destroy())
 *     // else the fallback fragment, as now
 *
 *   `staleHeaders` gives `X-Dx-Fallback: stale`, `Vary: HX-Request` and `Age`; `sendHtml`
 *   adds the content type, `Cache-Control: no-store` and the CSP.
 *
 * Writes (POST, PUT, PATCH, DELETE) never get a stale copy and are never stored: they keep
 * their real 5xx and the page shows the error. A browser navigation (no `HX-Request`) gets
 * the error page as now, never a fragment. Metrics: `lastGood.stats()`.
 */

export type LastGoodOptions = {
  /** Copies kept at most (default 500). */
  maxEntries?: number
  /** Bytes kept at most, bodies and keys (default 10 MiB). */
  maxBytes?: number
  /** A copy older than this is dropped instead of served (default 10 minutes). */
  maxAgeMs?: number
  /** A body over this is never kept (default 256 KiB). */
  maxEntryBytes?: number
  /** ms since the epoch; injectable for tests. */
  now?: () => number
}

/** Where a copy is kept: the URL, and the request headers its service's `Vary` names. */
export type LastGoodKey = {
  readonly id: string
  readonly url: string
  /** The `Vary` names that went into `id`, normalized (lowercase, sorted, comma-joined); '' for none. */
  readonly vary: string
}

export type LastGoodEntry = {
  readonly url: string
  readonly body: Buffer
  /** When it was stored, ms since the epoch (by the cache's clock). */
  readonly storedAt: number
}

type Stored = LastGoodEntry & { readonly id: string; readonly size: number }

export type LastGoodStats = {
  entries: number
  bytes: number
  hits: number
  misses: number
  /** Copies stored (a replaced copy counts again). */
  stores: number
  /** Copies dropped to make room (not those that expired or were replaced). */
  evictions: number
  /** Bodies `put` refused. */
  refused: number
}

/** A request header by lowercase name: a value, several values, or none. */
export type HeaderLookup = (name: string) => string | string[] | undefined

/**
 * A `HeaderLookup` over a request's raw headers (`req.rawHeaders`), with no header object
 * built: a few passes over a short array, only when a service varies or on a failure.
 */
export function rawLookup(raw: readonly string[]): HeaderLookup {
  return (name) => {
    let out: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === name.length && raw[i].toLowerCase() === name) {
        const v = raw[i + 1]
        out = out === undefined ? v : `${out}${name === 'cookie' ? '; ' : ', '}${v}`
      }
    }
    return out
  }
}

const KiB = 1024
export const LAST_GOOD_DEFAULTS = { maxEntries: 500, maxBytes: 10 * KiB * KiB, maxAgeMs: 10 * 60_000, maxEntryBytes: 256 * KiB } as const

// htmx acts on these response headers instead of (or besides) swapping the body where it
// was asked for: a copy shown again without them would do something else.
const HTMX_ACTIONS = new Set(['hx-redirect', 'hx-location', 'hx-refresh', 'hx-retarget', 'hx-reswap', 'hx-reselect'])

// Markup that reaches outside the place a copy is swapped into: out-of-band swaps and
// hx-preserve move elements by id (a stale copy would overwrite live parts of the page, or
// duplicate their ids), and the gateway's own fallback and stale markers mean the body is
// already a stand-in (a gateway or proxy in front of the service). Matched as words
// anywhere, case-insensitively like HTML attribute names: a user's text that happens to
// contain one only costs that fragment its copy.
const UNSAFE_MARKUP = /hx-swap-oob|hx-preserve|data-dx-stale|data-dx-fallback/i

// The HTML parser drops these start tags outside a table or select, so they cannot be
// wrapped in the stale copy's <div>/<fieldset>: such a fragment is not kept.
const TABLE_PARTS = /^\s*<(?:tr|td|th|tbody|thead|tfoot|caption|colgroup|col|option|optgroup)[\s/>]/i

/** The `Vary` names a key uses: lowercase, sorted, without `HX-Request`; undefined for `*`. */
export function normalizeVary(vary: string | undefined): string | undefined {
  if (!vary) return ''
  const names = new Set<string>()
  for (const part of vary.split(',')) {
    const name = part.trim().toLowerCase()
    if (name === '*') return undefined
    // Only htmx requests are kept and served, so HX-Request is always "true" here.
    if (name && name !== 'hx-request') names.add(name)
  }
  return [...names].sort().join(',')
}

const joined = (v: string | string[] | undefined) => (v === undefined ? '\0' : Array.isArray(v) ? v.join(', ') : v)

export class LastGood {
  readonly maxEntries: number
  readonly maxBytes: number
  readonly maxAgeMs: number
  readonly maxEntryBytes: number
  readonly now: () => number
  /** In recency order: the first is the least recently used. */
  private entries = new Map<string, Stored>()
  /** Per URL, the Vary names its service gave last and the ids of its copies. */
  private urls = new Map<string, { vary: string; ids: Set<string> }>()
  private bytes = 0
  private counts = { hits: 0, misses: 0, stores: 0, evictions: 0, refused: 0 }

  constructor(opts: LastGoodOptions = {}) {
    this.maxEntries = opts.maxEntries ?? LAST_GOOD_DEFAULTS.maxEntries
    this.maxBytes = opts.maxBytes ?? LAST_GOOD_DEFAULTS.maxBytes
    this.maxAgeMs = opts.maxAgeMs ?? LAST_GOOD_DEFAULTS.maxAgeMs
    this.maxEntryBytes = Math.min(opts.maxEntryBytes ?? LAST_GOOD_DEFAULTS.maxEntryBytes, this.maxBytes)
    this.now = opts.now ?? Date.now
  }

  /**
   * Whether a response may be kept, from its status and headers (a flat [name, value, …]
   * list, strings or raw Buffers), in one pass. Its body is checked again by `put`.
   */
  cacheable(status: number, headers: ReadonlyArray<string | Buffer>): boolean {
    // 2xx with a whole body to show: not 204/205 (none), not 206 (a part).
    if (status < 200 || status > 299 || status === 204 || status === 205 || status === 206) return false
    let html = false
    for (let i = 0; i < headers.length; i += 2) {
      const key = String(headers[i]).toLowerCase()
      switch (key) {
        case 'set-cookie':
        case 'x-dx-fallback':
        case 'content-range':
          return false
        case 'content-type': {
          const v = String(headers[i + 1]).toLowerCase()
          if (!v.trimStart().startsWith('text/html')) return false
          const cs = /;\s*charset\s*=\s*"?([^";\s]+)/.exec(v)
          // The copy is decoded as UTF-8 when it is shown again.
          if (cs && cs[1] !== 'utf-8' && cs[1] !== 'utf8' && cs[1] !== 'us-ascii') return false
          html = true
          break
        }
        case 'cache-control':
          for (const d of String(headers[i + 1]).toLowerCase().split(',')) {
            const eq = d.indexOf('=')
            const name = (eq < 0 ? d : d.slice(0, eq)).trim()
            if (name === 'no-store' || name === 'private') return false
          }
          break
        case 'content-encoding': {
          const v = String(headers[i + 1]).trim().toLowerCase()
          if (v && v !== 'identity') return false
          break
        }
        case 'content-length':
          if (Number(String(headers[i + 1])) > this.maxEntryBytes) return false
          break
        case 'vary':
          if (normalizeVary(String(headers[i + 1])) === undefined) return false
          break
        default:
          if (key.startsWith('hx-') && HTMX_ACTIONS.has(key)) return false
      }
    }
    return html
  }

  /**
   * The key for a response to `url` whose service sent `vary` (the `Vary` value, undefined
   * when none): the URL, plus the request's values of the headers `Vary` names (hashed, so
   * no cookie is kept as a key). Undefined when it must not be kept: `Vary: *`, or a
   * request with `Authorization` (its answer is that user's).
   */
  keyOf(url: string, vary: string | undefined, header: HeaderLookup): LastGoodKey | undefined {
    const names = normalizeVary(vary)
    if (names === undefined || header('authorization') !== undefined) return undefined
    return { id: this.idOf(url, names, header), url, vary: names }
  }

  private idOf(url: string, names: string, header: HeaderLookup): string {
    if (!names) return url
    const h = createHash('sha256')
    for (const name of names.split(',')) h.update(joined(header(name))).update('\n')
    return `${url}\n${names}\n${h.digest('base64url')}`
  }

  /**
   * Keeps `body` as the last good copy for `key`, replacing the one before. False when it
   * is not kept: empty, over `maxEntryBytes`, or markup that must not be shown again (see
   * UNSAFE_MARKUP). Evicts the least recently used copies past the bounds.
   */
  put(key: LastGoodKey, body: Buffer): boolean {
    if (body.length === 0 || body.length > this.maxEntryBytes || !safeMarkup(body)) {
      this.counts.refused++
      return false
    }
    const size = body.length + key.id.length
    if (size > this.maxBytes) {
      this.counts.refused++
      return false
    }
    // A view into a bigger buffer (a socket read, or Node's 8 KiB pool that small Buffers
    // share) would keep all of it alive: the copy owns its bytes.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : copyOut(body)
    const rec = this.urls.get(key.url)
    // The service varies on other headers now: copies keyed the old way can never be found.
    if (rec && rec.vary !== key.vary) for (const id of [...rec.ids]) this.remove(id)
    this.remove(key.id)
    const entry: Stored = { id: key.id, url: key.url, body: own, storedAt: this.now(), size }
    this.entries.set(key.id, entry)
    this.bytes += size
    let r = this.urls.get(key.url)
    if (!r) this.urls.set(key.url, (r = { vary: key.vary, ids: new Set() }))
    r.ids.add(key.id)
    this.counts.stores++
    this.evict()
    return true
  }

  /** The copy for `key`, most recently used from now on; undefined (and dropped) past the maximum age. */
  get(key: LastGoodKey | string): LastGoodEntry | undefined {
    const id = typeof key === 'string' ? key : key.id
    const entry = this.entries.get(id)
    if (!entry) {
      this.counts.misses++
      return undefined
    }
    if (this.now() - entry.storedAt > this.maxAgeMs) {
      this.remove(id)
      this.counts.misses++
      return undefined
    }
    this.entries.delete(id)
    this.entries.set(id, entry)
    this.counts.hits++
    return entry
  }

  /**
   * The copy for a failed request to `url`: keyed by the headers its service's last kept
   * answer varied on. Undefined when none (or the request has `Authorization`).
   */
  find(url: string, header: HeaderLookup): LastGoodEntry | undefined {
    const rec = this.urls.get(url)
    if (!rec || header('authorization') !== undefined) {
      this.counts.misses++
      return undefined
    }
    return this.get(this.idOf(url, rec.vary, header))
  }

  /** Drops every copy of `url` (its service now answers it with something not to keep). */
  forget(url: string) {
    const rec = this.urls.get(url)
    if (rec) for (const id of [...rec.ids]) this.remove(id)
  }

  /** Drops the copies past the maximum age; `get` and `find` do it anyway for what they meet. */
  prune() {
    const oldest = this.now() - this.maxAgeMs
    for (const [id, e] of this.entries) if (e.storedAt < oldest) this.remove(id)
  }

  clear() {
    this.entries.clear()
    this.urls.clear()
    this.bytes = 0
  }

  stats(): LastGoodStats {
    return { entries: this.entries.size, bytes: this.bytes, ...this.counts }
  }

  private evict() {
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return
      this.remove(id)
      this.counts.evictions++
    }
  }

  private remove(id: string) {
    const e = this.entries.get(id)
    if (!e) return
    this.entries.delete(id)
    this.bytes -= e.size
    const rec = this.urls.get(e.url)
    if (rec) {
      rec.ids.delete(id)
      if (rec.ids.size === 0) this.urls.delete(e.url)
    }
  }
}

function safeMarkup(body: Buffer): boolean {
  // latin1: one char per byte, never a decoding error; the markers are ASCII.
  const text = body.toString('latin1')
  return !UNSAFE_MARKUP.test(text) && !TABLE_PARTS.test(text)
}

function copyOut(b: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(b.length)
  b.copy(own)
  return own
}
