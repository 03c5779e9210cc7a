import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { errorPage, fallbackFragment, staleFragment, technicalReason, writeError, type FailReason } from '../src/fallback.js'

// What a user reads when a service is down: what happened to them and what to do, in their
// words; the technical reason only in the small print, for whoever runs the system.

const reasons = Object.keys(technicalReason) as FailReason[]
const text = (h: string) => h.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()
// Words a user should not meet outside the small print.
const JARGON = /refused|connection|instance|upstream|gateway|timed out|5xx|\b50[234]\b/i

/** The small print (class dx-fallback-detail, small text) and the rest. */
function split(h: string) {
  const m = /<p class="dx-fallback-detail [^"]*\btext-xs\b[^"]*">([^<]*)<\/p>/.exec(h)
  assert.ok(m, `no small print in ${h}`)
  return { detail: m[1]!, rest: text(h.replace(m[0], '')) }
}

describe('fallback wording', () => {
  for (const reason of reasons) {
    test(`${reason}: the fallback says what happened in plain words, the reason in small print`, async () => {
      const h = String(await fallbackFragment('Todo', '/todo', reason))
      const { detail, rest } = split(h)
      assert.equal(rest, 'Todo is unavailable right now The rest of the page works as usual, and Todo will appear here by itself when it is back.')
      assert.equal(detail, `Trying again every 3 seconds. Technical detail: ${technicalReason[reason]}.`)
    })

    test(`${reason}: the stale copy's banner too`, async () => {
      const entry = { url: '/todo', body: Buffer.from('<div>copy</div>'), storedAt: 0 }
      const h = String(await staleFragment('Todo', '/todo', entry, reason, { now: 5 * 60_000 }))
      const banner = /<div class="dx-stale-banner[\s\S]*?<\/div>/.exec(h)![0]
      const { detail, rest } = split(banner)
      assert.doesNotMatch(rest, JARGON)
      assert.match(rest, /^Todo is unavailable right now\. This is a saved copy from 5 minutes ago/)
      assert.match(detail, new RegExp(`Technical detail: ${technicalReason[reason]}\\.$`))
    })

    test(`${reason}: a failed write says whether it was saved, the reason last`, () => {
      const m = /^(.*) \(([^)]*)\)$/.exec(writeError('Todo', reason))
      assert.ok(m)
      assert.doesNotMatch(m[1]!, JARGON)
      assert.equal(m[2], technicalReason[reason])
    })
  }

  test('the error page: no status or reason code in its header or heading; both in small print', async () => {
    const h = String(await errorPage('Todo', 'refused', 502))
    const header = /<header[\s\S]*<\/header>/.exec(h)![0]
    assert.doesNotMatch(text(header), /502|refused/)
    const main = /<main[^>]*>([\s\S]*)<\/main>/.exec(h)![1]!
    const { detail, rest } = split(main)
    assert.doesNotMatch(rest, JARGON)
    assert.match(rest, /^Todo is unavailable right now This page cannot be shown at the moment\. Try again in a minute/)
    assert.equal(detail, 'Error 502. Technical detail: connection refused.')
    assert.match(main, /<a [^>]*href="">Try again<\/a>/)
  })
})
