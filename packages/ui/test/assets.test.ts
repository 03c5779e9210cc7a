import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { AssetStore, assetRoutes, contentHash, hashedName, IMMUTABLE, parseAssetName, REVALIDATE } from '../src/assets.js'
import { assets, assetUrl, layout } from '../src/index.js'
import { html } from 'hono/html'

function tempStore(content: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dx-assets-'))
  const path = join(dir, 'app.css')
  writeFileSync(path, content)
  let now = 0
  const store = new AssetStore({ 'app.css': { path, type: 'text/css; charset=utf-8' } }, 1000, () => now)
  return { dir, path, store, advance: (ms: number) => (now += ms), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

test('hashed names: the hash goes before the last extension, and parses back', () => {
  assert.equal(hashedName('htmx.min.js', '3f2a9c1b'), 'htmx.min.3f2a9c1b.js')
  assert.equal(hashedName('app.css', '00ff00ff'), 'app.00ff00ff.css')
  assert.deepEqual(parseAssetName('htmx.min.3f2a9c1b.js'), { name: 'htmx.min.js', hash: '3f2a9c1b' })
  assert.deepEqual(parseAssetName('htmx.min.js'), { name: 'htmx.min.js' })
  assert.deepEqual(parseAssetName('app.3F2A9C1B.css'), { name: 'app.3F2A9C1B.css' }, 'only lowercase hex is a hash')
  assert.equal(contentHash('body { color: red }').length, 8)
  assert.notEqual(contentHash('a'), contentHash('b'))
})

test('the URL follows the file: a rebuilt file gets a new hash once its stat changes', (t) => {
  const f = tempStore('a { color: red }')
  t.after(f.cleanup)
  const first = f.store.url('app.css')
  assert.equal(first, `/assets/app.${contentHash('a { color: red }')}.css`)
  writeFileSync(f.path, 'a { color: blue; }')
  utimesSync(f.path, new Date(), new Date(Date.now() + 5000))
  assert.equal(f.store.url('app.css'), first, 'not looked at again within the recheck interval')
  f.advance(1000)
  assert.equal(f.store.url('app.css'), `/assets/app.${contentHash('a { color: blue; }')}.css`)
})

test('a missing file has its plain URL and answers 503 saying how to build it', async (t) => {
  const f = tempStore('x')
  t.after(f.cleanup)
  rmSync(f.path)
  assert.equal(f.store.url('app.css'), '/assets/app.css')
  const r = await assetRoutes({ store: f.store }).request('/assets/app.css')
  assert.equal(r.status, 503)
  assert.match(await r.text(), /npm run build:css/)
})

test('hashed URL: immutable for a year; plain or outdated hash: no-cache; ETag answers 304', async (t) => {
  const f = tempStore('p { margin: 0 }')
  t.after(f.cleanup)
  const app = assetRoutes({ store: f.store })
  const hashed = await app.request(f.store.url('app.css'))
  assert.equal(hashed.status, 200)
  assert.equal(hashed.headers.get('cache-control'), IMMUTABLE)
  assert.equal(hashed.headers.get('content-type'), 'text/css; charset=utf-8')
  assert.equal(await hashed.text(), 'p { margin: 0 }')
  const plain = await app.request('/assets/app.css')
  assert.equal(plain.headers.get('cache-control'), REVALIDATE)
  assert.equal(await plain.text(), 'p { margin: 0 }')
  // A page made before a rebuild names the old hash: it gets the file, but not for keeps.
  const old = await app.request('/assets/app.0badc0de.css')
  assert.equal(old.status, 200)
  assert.equal(old.headers.get('cache-control'), REVALIDATE)
  const etag = plain.headers.get('etag')!
  assert.equal(etag, `"${contentHash('p { margin: 0 }')}"`)
  const again = await app.request('/assets/app.css', { headers: { 'if-none-match': etag } })
  assert.equal(again.status, 304)
  assert.equal((await app.request('/assets/nothing.0badc0de.css')).status, 404)
  assert.equal((await app.request('/assets/__proto__')).status, 404)
})

test('the real assets: the layout links hashed URLs that the routes serve as immutable', async () => {
  const page = String(await layout({ title: 't', body: html`<p>x</p>` }))
  const app = assets()
  for (const name of ['htmx.min.js', 'ws.min.js', 'sse.min.js', 'dx.js', 'favicon.svg']) {
    const url = assetUrl(name)
    assert.match(url, /^\/assets\/[a-z.]+\.[0-9a-f]{8}\.[a-z]+$/, name)
    assert.ok(page.includes(`"${url}"`), `the layout links ${url}`)
    const r = await app.request(url)
    assert.equal(r.status, 200, url)
    assert.equal(r.headers.get('cache-control'), IMMUTABLE, url)
    await r.arrayBuffer()
    const plain = await app.request(`/assets/${name}`)
    assert.equal(plain.headers.get('cache-control'), REVALIDATE, name)
    await plain.arrayBuffer()
  }
})
