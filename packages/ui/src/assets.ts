import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Hono, type Context } from 'hono'
import { DEV_SCRIPT, devOrigin } from './dev.js'

const require = createRequire(import.meta.url)
// From this package's own folder, found by name rather than by import.meta.url, which in
// the gateway's bundle (gateway/build.ts) is the bundle's URL.
const src = dirname(require.resolve('@dx/ui'))
const here = (p: string) => join(src, p)

const js = 'text/javascript; charset=utf-8'
type AssetFile = { path: string; type: string }
// Only the htmx 2 builds: dist/ext/ in htmx.org holds the htmx 1 extensions.
const files: Record<string, AssetFile> = {
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: js },
  'ws.min.js': { path: require.resolve('htmx-ext-ws/dist/ws.min.js'), type: js },
  'sse.min.js': { path: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: js },
  'dx.js': { path: here('./client/dx.js'), type: js },
  // Served only when DX_DEV=1 (`make watch`); a 404 otherwise, see serve().
  [DEV_SCRIPT]: { path: here('./client/dev-reload.js'), type: js },
  'app.css': { path: here('../dist/app.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { path: here('./favicon.svg'), type: 'image/svg+xml' },
}

/** A hashed URL never changes content, so a browser may keep it for a year without asking. */
export const IMMUTABLE = 'public, max-age=31536000, immutable'
/** An unhashed URL may change at any time (a rebuilt app.css): ask each time, cheaply (ETag). */
export const REVALIDATE = 'no-cache'
/** A file's stat is looked at most this often, so `make watch`'s rebuilt CSS is picked up. */
export const RECHECK_MS = 1000

export type Loaded = { body: Buffer; hash: string; mtimeMs: number; size: number; checkedAt: number }

/** Hex characters of the content hash in a URL: plenty to tell builds apart. */
const HASH_LENGTH = 8

export const contentHash = (body: Buffer | string) => createHash('sha256').update(body).digest('hex').slice(0, HASH_LENGTH)

/** `htmx.min.js` + `3f2a9c1b` → `htmx.min.3f2a9c1b.js`: the hash goes before the last extension. */
export function hashedName(name: string, hash: string): string {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? `${name}.${hash}` : `${name.slice(0, dot)}.${hash}${name.slice(dot)}`
}

/** `app.3f2a9c1b.css` → `{ name: 'app.css', hash: '3f2a9c1b' }`; an unhashed name has no hash. */
export function parseAssetName(file: string): { name: string; hash?: string } {
  const m = /^(.+)\.([0-9a-f]{8})(\.[a-z0-9]+)$/.exec(file)
  return m ? { name: m[1] + m[3], hash: m[2] } : { name: file }
}

/**
 * Asset files with their content and hash, read at first use and read again when the
 * file's mtime or size changes (looked at no more than once per `recheckMs`): a CSS
 * rebuilt by `make watch` gets a new hash, and the next page links it.
 */
export class AssetStore {
  private loaded = new Map<string, Loaded>()
  constructor(
    private readonly table: Record<string, AssetFile> = files,
    private readonly recheckMs = RECHECK_MS,
    private readonly now: () => number = Date.now,
  ) {}

  has(name: string): boolean {
    return Object.hasOwn(this.table, name)
  }

  type(name: string): string | undefined {
    return this.has(name) ? this.table[name].type : undefined
  }

  /** The file now, or undefined when it does not exist (app.css before the first build). */
  get(name: string): Loaded | undefined {
    // Own keys only: "constructor" or "__proto__" are not assets.
    if (!this.has(name)) return undefined
    const now = this.now()
    const prev = this.loaded.get(name)
    if (prev && now - prev.checkedAt < this.recheckMs) return prev
    const path = this.table[name].path
    let st
    try {
      st = statSync(path)
    } catch {
      this.loaded.delete(name)
      return undefined
    }
    if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) {
      prev.checkedAt = now
      return prev
    }
    let body: Buffer
    try {
      body = readFileSync(path)
    } catch {
      this.loaded.delete(name)
      return undefined
    }
    const next = { body, hash: contentHash(body), mtimeMs: st.mtimeMs, size: st.size, checkedAt: now }
    this.loaded.set(name, next)
    return next
  }

  /** `/assets/app.3f2a9c1b.css` for the file as it is now; the plain name while it does not exist. */
  url(name: string): string {
    const f = this.get(name)
    return `/assets/${f ? hashedName(name, f.hash) : name}`
  }
}

// Under `make watch` a rebuilt app.css must be served at once, so each request looks again.
const store = new AssetStore(files, devOrigin() ? 0 : RECHECK_MS)

/** The URL the layout links for an asset: hashed by its content, so it can be cached for good. */
export const assetUrl = (name: string) => store.url(name)

type Extra = Record<string, () => Promise<{ body: string; type: string }>>

/**
 * `/assets/*`: htmx, its extensions, our client glue, the compiled CSS and the icon, from
 * our own build, at their plain names (`no-cache`) and at content-hashed names
 * (`immutable`); `/favicon.ico` too, since browsers ask for it on pages that name none.
 * `extra` adds generated files (the layout template) served `no-cache`.
 */
export function assetRoutes(opts: { store?: AssetStore; extra?: Extra } = {}) {
  const s = opts.store ?? store
  const extra = opts.extra ?? {}
  const app = new Hono()
  app.get('/assets/:file', async (c) => {
    const file = c.req.param('file')
    if (Object.hasOwn(extra, file)) {
      const { body, type } = await extra[file]()
      return c.body(body, 200, { 'content-type': type, 'cache-control': REVALIDATE })
    }
    return serve(c, s, file)
  })
  app.get('/favicon.ico', (c) => serve(c, s, 'favicon.svg'))
  return app
}

function serve(c: Context, s: AssetStore, file: string) {
  const { name, hash } = parseAssetName(file)
  if (!s.has(name) || (name === DEV_SCRIPT && !devOrigin())) return c.text('no such asset', 404)
  const f = s.get(name)
  // app.css is build output: say how to make it rather than a bare 404.
  if (!f) return c.text(`asset ${name} is not built yet: run "npm run build:css"`, 503)
  // A hash that is not the current one is a page made before a rebuild: it gets the file as
  // it is now, but not for keeps, so the wrong bytes are never cached under that name.
  const cache = hash === f.hash ? IMMUTABLE : REVALIDATE
  const etag = `"${f.hash}"`
  const headers = { 'content-type': s.type(name)!, 'cache-control': cache, etag }
  if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers)
  return c.body(new Uint8Array(f.body), 200, headers)
}
