import assert from 'node:assert/strict'
import { test } from 'node:test'
import { safeHref, siteOf } from '../src/safe-url.js'

test('only http and https URLs become links', () => {
  assert.equal(safeHref('https://example.com/a?b=1'), 'https://example.com/a?b=1')
  assert.equal(safeHref('http://example.com'), 'http://example.com/')
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', ' javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', 'file:///etc/passwd', 'ftp://example.com', '//example.com', '/relative', 'not a url', '', undefined]) {
    assert.equal(safeHref(bad), undefined, String(bad))
  }
})

test('a URL with quotes is normalised, so it cannot break out of the attribute', () => {
  const href = safeHref('https://example.com/"><script>alert(1)</script>')!
  assert.doesNotMatch(href, /["<>]/)
})

test('the site is the hostname without www', () => {
  assert.equal(siteOf('https://www.example.com/path'), 'example.com')
  assert.equal(siteOf('https://blog.rust-lang.org/x'), 'blog.rust-lang.org')
  assert.equal(siteOf('javascript:alert(1)'), undefined)
  assert.equal(siteOf(undefined), undefined)
})
