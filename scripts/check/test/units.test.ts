import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cspProblems } from '../csp.js'
import { fragmentProblem, isFullDocument, prefixProblem, urlAttributes } from '../html.js'
import { parseArgs, UsageError } from '../main.js'
import { triggerProblem } from '../trigger.js'

test('HX-Trigger syntax: the three forms, names NAME:verb', () => {
  assert.equal(triggerProblem('clock:ticked', 'clock'), null)
  assert.equal(triggerProblem('clock:ticked, clock:reset', 'clock'), null)
  assert.equal(triggerProblem('{"clock:ticked": {"n": 1}}', 'clock'), null)
  assert.match(triggerProblem('{"clock:ticked": 1', 'clock')!, /not JSON/)
  assert.match(triggerProblem('["clock:ticked"]', 'clock')!, /neither|not an object/)
  assert.match(triggerProblem('clock ticked', 'clock')!, /neither a name/)
  assert.match(triggerProblem('todo:added', 'clock')!, /"todo:added" is not named "clock:verb"/)
  assert.match(triggerProblem('ticked', 'clock')!, /not named/)
  assert.match(triggerProblem('{}', 'clock')!, /no event/)
})

test('prefix discipline: under /NAME, assets, external links; not relative, not elsewhere, no requests to other origins', () => {
  const p = (attr: string, value: string) => prefixProblem({ attr, value }, '/todo')
  for (const ok of [['hx-get', '/todo'], ['hx-post', '/todo/items'], ['hx-get', '/todo?x=1'], ['href', '/assets/app.css'], ['href', 'https://news.ycombinator.com/item?id=1'], ['href', '#top']]) {
    assert.equal(p(ok[0], ok[1]), null, ok.join('='))
  }
  assert.match(p('hx-post', 'items')!, /relative/)
  assert.match(p('hx-get', '/todos')!, /outside \/todo/)
  assert.match(p('href', '/')!, /outside/)
  assert.match(p('hx-get', 'http://127.0.0.1:4001/todo')!, /another origin/)
  assert.match(p('href', 'javascript:alert(1)')!, /script URL/)
  assert.deepEqual(urlAttributes(`<a href='/x'>a</a><button hx-post="/todo/a?b=1&amp;c=2" hx-target="this">`), [
    { attr: 'href', value: '/x' },
    { attr: 'hx-post', value: '/todo/a?b=1&c=2' },
  ])
})

test('documents and fragments', () => {
  assert.ok(isFullDocument('<!doctype html>\n<html lang="en"><head></head><body></body></html>'))
  assert.ok(!isFullDocument('<div>hi</div>'))
  assert.equal(fragmentProblem('<div class="x">hi</div>'), null)
  assert.match(fragmentProblem('<!DOCTYPE html><html><body><div></div></body></html>')!, /<!doctype>/)
  assert.match(fragmentProblem('just text')!, /no HTML element/)
})

test('the page policy: no unsafe script sources, frame-ancestors present', () => {
  assert.deepEqual(cspProblems("default-src 'self'; frame-ancestors 'none'"), [])
  assert.deepEqual(cspProblems(null), ['no Content-Security-Policy'])
  assert.deepEqual(cspProblems("script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"), ["scripts allow 'unsafe-inline'"])
  assert.deepEqual(cspProblems("default-src 'self' 'unsafe-eval'"), ["scripts allow 'unsafe-eval'", 'no frame-ancestors'])
  // style-src may differ; only scripts matter here.
  assert.deepEqual(cspProblems("default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"), [])
})

test('arguments: URL, --secret (or DX_EVENT_SECRET), --timeout, --post; anything else is a usage error', () => {
  assert.deepEqual(parseArgs(['http://127.0.0.1:4004/'], {}), { url: 'http://127.0.0.1:4004', secret: undefined, timeoutMs: 5000, post: [] })
  assert.deepEqual(parseArgs(['--timeout', '300', '--post', '/clock/tick', 'http://h:1', '--secret', 's'], {}), { url: 'http://h:1', secret: 's', timeoutMs: 300, post: ['/clock/tick'] })
  assert.equal((parseArgs(['http://h:1'], { DX_EVENT_SECRET: 'e' }) as { secret: string }).secret, 'e')
  assert.equal(parseArgs(['--help'], {}), 'help')
  for (const [argv, msg] of [
    [[], /no URL/],
    [['ftp://x'], /not an http/],
    [['nonsense'], /not a URL/],
    [['http://a', 'http://b'], /one URL only/],
    [['--timeout', 'x', 'http://a'], /--timeout/],
    [['--secret'], /needs a value/],
    [['--post', 'clock/tick', 'http://a'], /--post/],
    [['--verbose', 'http://a'], /unknown option --verbose/],
  ] as const) {
    assert.throws(() => parseArgs([...argv], {}), (e: unknown) => e instanceof UsageError && msg.test(e.message), argv.join(' '))
  }
})
