import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ago, LastGood, rawLookup, staleFragment, staleHeaders, type HeaderLookup } from '../src/fallback.js'

const HTML = ['Content-Type', 'text/html; charset=utf-8']
const none: HeaderLookup = () => undefined
const clock = (start = 1_000_000) => {
  const c = { t: start, now: () => c.t }
  return c
}
const body = (s: string) => Buffer.from(s)
const key = (cache: LastGood, url: string, vary?: string, header: HeaderLookup = none) => cache.keyOf(url, vary, header)!

describe('LastGood: bounds', () => {
  test('keeps at most maxEntries, evicting the least recently used first', () => {
    const cache = new LastGood({ maxEntries: 3 })
    for (const u of ['/a', '/b', '/c']) assert.ok(cache.put(key(cache, u), body(`<p>${u}</p>`)))
    // /a is used: /b is now the oldest.
    assert.equal(cache.get(key(cache, '/a'))?.body.toString(), '<p>/a</p>')
    cache.put(key(cache, '/d'), body('<p>/d</p>'))
    assert.equal(cache.stats().entries, 3)
    assert.equal(cache.get(key(cache, '/b')), undefined)
    for (const u of ['/a', '/c', '/d']) assert.ok(cache.get(key(cache, u)), u)
    cache.put(key(cache, '/e'), body('<p>/e</p>'))
    // The order of use is now /a, /c, /d (the gets above), then /e: /a goes.
    assert.equal(cache.get(key(cache, '/a')), undefined)
    assert.equal(cache.stats().evictions, 2)
  })

  test('keeps at most maxBytes (bodies and keys), evicting the oldest first', () => {
    const cache = new LastGood({ maxBytes: 1000, maxEntryBytes: 1000 })
    const k = (u: string) => key(cache, u)
    cache.put(k('/1'), Buffer.alloc(400, 'a'))
    cache.put(k('/2'), Buffer.alloc(400, 'b'))
    assert.equal(cache.stats().bytes, 804)
    cache.put(k('/3'), Buffer.alloc(400, 'c'))
    assert.equal(cache.get(k('/1')), undefined)
    assert.ok(cache.get(k('/2')))
    assert.ok(cache.get(k('/3')))
    assert.equal(cache.stats().bytes, 804)
    assert.ok(cache.stats().bytes <= 1000)
    // One that alone is over the total is refused, and evicts nothing.
    const big = new LastGood({ maxBytes: 100, maxEntryBytes: 1000 })
    big.put(key(big, '/x'), Buffer.alloc(50, 'x'))
    assert.equal(big.put(key(big, '/y'), Buffer.alloc(200, 'y')), false)
    assert.ok(big.get(key(big, '/x')))
  })

  test('a new copy of the same key replaces the old one and its bytes', () => {
    const cache = new LastGood()
    cache.put(key(cache, '/a'), body('<p>one</p>'))
    cache.put(key(cache, '/a'), body('<p>second</p>'))
    assert.equal(cache.stats().entries, 1)
    assert.equal(cache.stats().bytes, '<p>second</p>'.length + '/a'.length)
    assert.equal(cache.get(key(cache, '/a'))?.body.toString(), '<p>second</p>')
  })

  test('a copy older than maxAgeMs is dropped and missed; a younger one is served', () => {
    const c = clock()
    const cache = new LastGood({ maxAgeMs: 60_000, now: c.now })
    cache.put(key(cache, '/a'), body('<p>a</p>'))
    c.t += 60_000
    assert.ok(cache.get(key(cache, '/a')))
    c.t += 1
    assert.equal(cache.get(key(cache, '/a')), undefined)
    assert.equal(cache.stats().entries, 0)
    assert.equal(cache.stats().bytes, 0)
    assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses }, { hits: 1, misses: 1 })
  })

  test('a get refreshes recency but not age; prune drops what is past the age', () => {
    const c = clock()
    const cache = new LastGood({ maxAgeMs: 1000, now: c.now })
    cache.put(key(cache, '/a'), body('<p>a</p>'))
    c.t += 600
    cache.put(key(cache, '/b'), body('<p>b</p>'))
    assert.equal(cache.get(key(cache, '/a'))?.storedAt, 1_000_000)
    c.t += 500
    cache.prune()
    assert.equal(cache.stats().entries, 1)
    assert.ok(cache.get(key(cache, '/b')))
  })

  test('a body that is a view into a larger buffer is copied, so the larger one is not kept alive', () => {
    const cache = new LastGood()
    const slab = Buffer.alloc(8192, 'z')
    slab.write('<p>x</p>', 100)
    cache.put(key(cache, '/a'), slab.subarray(100, 108))
    const got = cache.get(key(cache, '/a'))!
    assert.equal(got.body.toString(), '<p>x</p>')
    assert.equal(got.body.buffer.byteLength, 8)
  })

  test('defaults: 500 entries, 10 MiB, 10 minutes, 256 KiB each', () => {
    const cache = new LastGood()
    assert.deepEqual([cache.maxEntries, cache.maxBytes, cache.maxAgeMs, cache.maxEntryBytes], [500, 10 * 1024 * 1024, 600_000, 256 * 1024])
  })
})

describe('LastGood: what may be kept', () => {
  const cache = new LastGood()
  test('a 2xx html answer', () => {
    assert.equal(cache.cacheable(200, HTML), true)
    assert.equal(cache.cacheable(200, ['content-type', 'text/html']), true)
    assert.equal(cache.cacheable(203, [...HTML, 'Cache-Control', 'max-age=0, no-cache', 'HX-Trigger', 'todo:shown', 'Content-Length', '1000']), true)
    assert.equal(cache.cacheable(200, [Buffer.from('Content-Type'), Buffer.from('text/html')]), true, 'raw Buffers')
  })
  test('never a non-2xx, or a 2xx without a whole body', () => {
    for (const s of [100, 199, 204, 205, 206, 301, 304, 404, 422, 500, 503]) assert.equal(cache.cacheable(s, HTML), false, String(s))
  })
  test('never one that sets a cookie', () => {
    assert.equal(cache.cacheable(200, [...HTML, 'Set-Cookie', 'a=b; Path=/']), false)
    assert.equal(cache.cacheable(200, ['set-cookie', 'a=b', ...HTML]), false)
  })
  test('never no-store or private, in any form', () => {
    for (const cc of ['no-store', 'No-Store', 'max-age=60, no-store', 'private', 'private="set-cookie"', 'public , PRIVATE']) {
      assert.equal(cache.cacheable(200, [...HTML, 'Cache-Control', cc]), false, cc)
    }
    assert.equal(cache.cacheable(200, [...HTML, 'Cache-Control', 'public', 'Cache-Control', 'no-store']), false, 'two headers')
    assert.equal(cache.cacheable(200, [...HTML, 'Cache-Control', 'max-age=60, must-revalidate']), true)
  })
  test('never anything but html, or html in another charset, or compressed', () => {
    assert.equal(cache.cacheable(200, []), false, 'no content type')
    for (const ct of ['application/json', 'text/plain', 'text/event-stream', 'application/xhtml+xml', 'text/html; charset=iso-8859-1']) {
      assert.equal(cache.cacheable(200, ['Content-Type', ct]), false, ct)
    }
    assert.equal(cache.cacheable(200, ['Content-Type', 'TEXT/HTML; Charset="UTF-8"']), true)
    assert.equal(cache.cacheable(200, [...HTML, 'Content-Encoding', 'gzip']), false)
    assert.equal(cache.cacheable(200, [...HTML, 'Content-Encoding', 'identity']), true)
  })
  test('never one too large, by its Content-Length or by its body', () => {
    const small = new LastGood({ maxEntryBytes: 100 })
    assert.equal(small.cacheable(200, [...HTML, 'Content-Length', '101']), false)
    assert.equal(small.cacheable(200, [...HTML, 'Content-Length', '100']), true)
    assert.equal(small.put(key(small, '/a'), Buffer.alloc(101, 'a')), false)
    assert.equal(small.put(key(small, '/a'), Buffer.alloc(100, 'a')), true)
    assert.equal(new LastGood().put(key(cache, '/a'), Buffer.alloc(256 * 1024 + 1, 'a')), false)
  })
  test('never a stand-in, Vary: *, or an answer htmx would act on beyond swapping it', () => {
    assert.equal(cache.cacheable(200, [...HTML, 'X-Dx-Fallback', 'stale']), false)
    assert.equal(cache.cacheable(200, [...HTML, 'Vary', 'Cookie, *']), false)
    for (const h of ['HX-Redirect', 'HX-Location', 'HX-Refresh', 'HX-Retarget', 'HX-Reswap', 'HX-Reselect']) {
      assert.equal(cache.cacheable(200, [...HTML, h, 'x']), false, h)
    }
  })
  test('put refuses bodies that would misbehave when shown again', () => {
    const c = new LastGood()
    const refused = [
      '',
      '<div id="x" hx-swap-oob="true">x</div><p>main</p>',
      '<p>main</p><div id="x" data-HX-SWAP-OOB="true"></div>',
      '<div id="v" hx-preserve>x</div>',
      '<div class="dx-fallback" data-dx-fallback="refused">…</div>',
      '<div class="dx-stale" data-dx-stale="refused">…</div>',
      '  <tr><td>a row</td></tr>',
      '<option value="1">one</option>',
    ]
    for (const b of refused) assert.equal(c.put(key(c, '/a'), body(b)), false, b)
    assert.equal(c.stats().refused, refused.length)
    assert.equal(c.stats().entries, 0)
    assert.equal(c.put(key(c, '/a'), body('<table><tr><td>a</td></tr></table><p>a table inside is fine</p>')), true)
  })
})

describe('LastGood: keys', () => {
  const cookie = (v: string): HeaderLookup => (n) => (n === 'cookie' ? v : undefined)

  test('no Vary: one copy per URL, whatever the request headers', () => {
    const cache = new LastGood()
    cache.put(key(cache, '/todo', undefined, cookie('a=1')), body('<p>one</p>'))
    cache.put(key(cache, '/todo', 'HX-Request', cookie('a=2')), body('<p>two</p>'))
    assert.equal(cache.stats().entries, 1)
    assert.equal(cache.find('/todo', cookie('a=3'))?.body.toString(), '<p>two</p>')
    assert.equal(cache.find('/todo?x=1', none), undefined, 'the query is part of the URL')
  })

  test('Vary: Cookie: one copy per cookie value, found again by the same cookie only', () => {
    const cache = new LastGood()
    cache.put(key(cache, '/chat', 'Cookie, HX-Request', cookie('nick=ana')), body('<p>ana</p>'))
    cache.put(key(cache, '/chat', 'cookie', cookie('nick=bo')), body('<p>bo</p>'))
    cache.put(key(cache, '/chat', 'Cookie'), body('<p>nobody</p>'))
    assert.equal(cache.stats().entries, 3)
    assert.equal(cache.find('/chat', cookie('nick=ana'))?.body.toString(), '<p>ana</p>')
    assert.equal(cache.find('/chat', cookie('nick=bo'))?.body.toString(), '<p>bo</p>')
    assert.equal(cache.find('/chat', none)?.body.toString(), '<p>nobody</p>')
    assert.equal(cache.find('/chat', cookie('nick=cy')), undefined)
    assert.equal(cache.find('/chat', cookie('')), undefined, 'an empty cookie is not no cookie')
    // The key holds no cookie value.
    assert.doesNotMatch(key(cache, '/chat', 'Cookie', cookie('nick=ana')).id, /ana/)
  })

  test('Vary names are case-blind, ordered and deduplicated; HX-Request is not part of the key', () => {
    const cache = new LastGood()
    const h: HeaderLookup = (n) => ({ cookie: 'a=1', 'accept-language': 'fr' })[n]
    const a = key(cache, '/x', 'Cookie, Accept-Language, HX-Request', h)
    const b = key(cache, '/x', 'accept-language,cookie,COOKIE', h)
    assert.equal(a.id, b.id)
    assert.equal(a.vary, 'accept-language,cookie')
    assert.equal(key(cache, '/x', 'HX-Request', h).id, '/x')
  })

  test('when the service changes what it varies on, the copies keyed the old way go', () => {
    const cache = new LastGood()
    cache.put(key(cache, '/x', 'Cookie', cookie('a=1')), body('<p>1</p>'))
    cache.put(key(cache, '/x', 'Cookie', cookie('a=2')), body('<p>2</p>'))
    cache.put(key(cache, '/x', undefined), body('<p>all</p>'))
    assert.equal(cache.stats().entries, 1)
    assert.equal(cache.find('/x', cookie('a=1'))?.body.toString(), '<p>all</p>')
  })

  test('forget drops every copy of a URL', () => {
    const cache = new LastGood()
    cache.put(key(cache, '/x', 'Cookie', cookie('a=1')), body('<p>1</p>'))
    cache.put(key(cache, '/x', 'Cookie', cookie('a=2')), body('<p>2</p>'))
    cache.put(key(cache, '/y'), body('<p>y</p>'))
    cache.forget('/x')
    assert.deepEqual([cache.stats().entries, cache.find('/x', cookie('a=1'))], [1, undefined])
  })

  test('Vary: * and requests with Authorization get no key and no copy', () => {
    const cache = new LastGood()
    assert.equal(cache.keyOf('/x', '*', none), undefined)
    const auth: HeaderLookup = (n) => (n === 'authorization' ? 'Bearer t' : undefined)
    assert.equal(cache.keyOf('/x', undefined, auth), undefined)
    cache.put(key(cache, '/x'), body('<p>x</p>'))
    assert.equal(cache.find('/x', auth), undefined)
    assert.ok(cache.find('/x', none))
  })

  test('rawLookup reads raw request headers case-blind, joining repeats', () => {
    const h = rawLookup(['Host', 'a', 'Cookie', 'a=1', 'X-Y', '1', 'cookie', 'b=2', 'x-y', '2'])
    assert.equal(h('cookie'), 'a=1; b=2')
    assert.equal(h('x-y'), '1, 2')
    assert.equal(h('authorization'), undefined)
    const cache = new LastGood()
    cache.put(key(cache, '/c', 'Cookie', rawLookup(['cookie', 'a=1; b=2'])), body('<p>c</p>'))
    assert.ok(cache.find('/c', h))
  })
})

describe('the stale copy', () => {
  const entry = { url: '/todo', body: body('<div class="dx-widget" data-dx-widget="todo"><form hx-post="/todo/items"><input id="todo-text" name="text"><button>Add</button></form><button hx-delete="/todo/items/1">Remove</button></div>'), storedAt: 1_000_000 }
  const fragment = async (title = 'Todo', e = entry, now = 1_000_000 + 2 * 60_000 + 5_000) => String(await staleFragment(title, '/todo', e, 'refused', { now }))

  test('a banner: whose, a saved copy, how old, that changes are off; retrying and why in small print', async () => {
    const h = await fragment()
    const text = h.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ')
    assert.match(text, /Todo is unavailable right now\. This is a saved copy from 2 minutes ago: you can read it, and changes are off until Todo is back\./)
    assert.match(h, /<p class="dx-fallback-detail [^"]*text-xs[^"]*">Trying again every 3 seconds\. Technical detail: connection refused\.<\/p>/)
    assert.match(h, /<time datetime="1970-01-01T00:16:40.000Z">/)
    assert.match(h, /data-dx-stale="refused"/)
  })

  test('the title is escaped; the copy is the service’s own markup', async () => {
    const h = await fragment('<b>"To&do"</b>')
    assert.ok(h.includes('&lt;b&gt;&quot;To&amp;do&quot;&lt;/b&gt; is unavailable'))
    assert.doesNotMatch(h, /<b>/)
    assert.ok(h.includes(entry.body.toString()))
    const u = String(await staleFragment('T', '/x?a="><script>', entry, 'timeout'))
    assert.ok(u.includes('hx-get="/x?a=&quot;&gt;&lt;script&gt;"'))
  })

  test('the copy sits in a disabled fieldset that htmx ignores and that takes no box', async () => {
    const h = await fragment()
    const m = /<fieldset class="([^"]*)" disabled hx-disable>([\s\S]*)<\/fieldset>/.exec(h)
    assert.ok(m, h)
    assert.ok(m[1].split(' ').includes('dx-stale-copy'))
    assert.ok(m[1].split(' ').includes('contents'))
    assert.equal(m[2], entry.body.toString())
    // The banner is outside it, before it.
    assert.ok(h.indexOf('stale</span>') < h.indexOf('<fieldset'))
  })

  test('the wrapper asks for the same URL again and replaces itself, never nesting', async () => {
    const h = await fragment()
    const open = /^<div ([^>]*)>/.exec(h)![1]
    assert.match(open, /hx-get="\/todo"/)
    assert.match(open, /hx-trigger="load delay:3s"/)
    assert.match(open, /hx-swap="outerHTML"/)
    assert.match(open, /hx-target="this"/)
    assert.equal(h.match(/data-dx-stale=/g)?.length, 1)
    // A stale copy (or any body carrying its marker) is never kept, so it can never be inside one.
    const cache = new LastGood()
    assert.equal(cache.cacheable(200, [...HTML, 'X-Dx-Fallback', 'stale']), false)
    assert.equal(cache.put(key(cache, '/todo'), Buffer.from(h)), false)
    assert.equal(String(await staleFragment('Todo', '/todo', entry, 'timeout', { retryS: 5 })).includes('load delay:5s'), true)
  })

  test('headers: X-Dx-Fallback: stale, Vary, Age', () => {
    assert.deepEqual(staleHeaders(entry, 1_000_000 + 125_400), { 'x-dx-fallback': 'stale', vary: 'HX-Request', age: '125' })
  })

  test('ages in words', () => {
    assert.deepEqual(
      [0, 9_999, 10_000, 59_999, 60_000, 119_999, 120_000, 3_599_999, 3_600_000, 7_200_000, -5].map(ago),
      ['a few seconds ago', 'a few seconds ago', '10 seconds ago', '59 seconds ago', '1 minute ago', '1 minute ago', '2 minutes ago', '59 minutes ago', '1 hour ago', '2 hours ago', 'a few seconds ago'],
    )
  })
})
