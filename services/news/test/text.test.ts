import assert from 'node:assert/strict'
import { test } from 'node:test'
import { plainParagraphs, timeAgo } from '../src/text.js'

test('HN HTML becomes plain paragraphs: tags stripped, entities decoded', () => {
  const text = 'First line &amp; more<p>I&#x27;m <i>here</i>: <a href="https://x.y/">link</a> &quot;q&quot; &#60;3<p><script>alert(1)</script>&lt;img src=x onerror=alert(1)&gt;'
  assert.deepEqual(plainParagraphs(text), ['First line & more', 'I\'m here: link "q" <3', 'alert(1)<img src=x onerror=alert(1)>'])
  assert.deepEqual(plainParagraphs(undefined), [])
  assert.deepEqual(plainParagraphs('a &bogus; &#xffffffff; b'), ['a &bogus; &#xffffffff; b'])
})

test('ages read like "3 hours ago"', () => {
  const now = Date.UTC(2025, 0, 10, 12)
  const ago = (s: number) => timeAgo(Math.floor(now / 1000) - s, now)
  assert.equal(ago(5), 'just now')
  assert.equal(ago(60), '1 minute ago')
  assert.equal(ago(150), '2 minutes ago')
  assert.equal(ago(3 * 3600 + 59), '3 hours ago')
  assert.equal(ago(86400), '1 day ago')
  assert.equal(ago(40 * 86400), '1 month ago')
  assert.equal(ago(800 * 86400), '2 years ago')
  assert.equal(ago(-100), 'just now')
  assert.equal(timeAgo(undefined, now), 'at an unknown time')
})
