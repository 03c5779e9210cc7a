// `make watch`'s reload script: present only with DX_DEV=1, absent from every other page.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { html } from 'hono/html'
import { assets, DEV_DEFAULT_URL, devOrigin, layout } from '../src/index.js'

/** Runs `fn` with these variables set (undefined = unset), then puts the old values back. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T | Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k]
      else process.env[k] = x
    }
  }
  set(vars)
  try {
    return await fn()
  } finally {
    set(old)
  }
}

const page = async () => String(await layout({ title: 'T', body: html`<p>hi</p>` }))

test('devOrigin: only DX_DEV=1 turns it on; DX_DEV_URL gives the origin; a bad URL is a clear error', () => {
  assert.equal(devOrigin({}), undefined)
  assert.equal(devOrigin({ DX_DEV: '0', DX_DEV_URL: 'http://localhost:1' }), undefined)
  assert.equal(devOrigin({ DX_DEV: 'true' }), undefined, 'only "1" means on')
  assert.equal(devOrigin({ DX_DEV: '1' }), new URL(DEV_DEFAULT_URL).origin)
  assert.equal(devOrigin({ DX_DEV: '1', DX_DEV_URL: 'http://127.0.0.1:5090/some/path' }), 'http://127.0.0.1:5090')
  assert.throws(() => devOrigin({ DX_DEV: '1', DX_DEV_URL: 'not a url' }), /DX_DEV_URL="not a url" is not an http\(s\) URL/)
  assert.throws(() => devOrigin({ DX_DEV: '1', DX_DEV_URL: 'ftp://x:1' }), /is not an http\(s\) URL/)
})

test('without DX_DEV: no dx-dev meta, no script tag, and the script is not served', async () => {
  await withEnv({ DX_DEV: undefined, DX_DEV_URL: 'http://localhost:5999' }, async () => {
    const body = await page()
    assert.doesNotMatch(body, /dx-dev|dev-reload|5999/)
    assert.match(body, /<script src="\/assets\/dx\.(?:[0-9a-f]{8}\.)?js" defer><\/script>/, 'the page is otherwise whole')
    const app = assets()
    for (const path of ['/assets/dev-reload.js', '/assets/dev-reload.0123abcd.js']) {
      const res = await app.request(path)
      assert.equal(res.status, 404, path)
      assert.equal(await res.text(), 'no such asset')
    }
  })
})

test('with DX_DEV=1: the meta names the dev origin, the script is linked and served', async () => {
  await withEnv({ DX_DEV: '1', DX_DEV_URL: 'http://localhost:5999' }, async () => {
    const body = await page()
    assert.match(body, /<meta name="dx-dev" content="http:\/\/localhost:5999" \/>/)
    const src = /<script src="(\/assets\/dev-reload\.(?:[0-9a-f]{8}\.)?js)" defer><\/script>/.exec(body)
    assert.ok(src, 'the script tag')
    const res = await assets().request(src[1])
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/)
    assert.match(await res.text(), /new EventSource\(origin \+ '\/events'\)/)
  })
})
