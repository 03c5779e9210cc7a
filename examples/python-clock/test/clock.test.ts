// The Python clock through a real gateway: the protocol as another stack speaks it.
import assert from 'node:assert/strict'
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { sleep } from '@dx/testkit'
import { nextEvent, NO_PYTHON, python, startClock, startClockSystem, type ClockSystem } from './helpers.js'

const sign = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex')
const envelope = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ id: randomUUID(), name: 'todo:added', detail: { text: 'milk' }, source: 'todo', time: new Date().toISOString(), ...over })
const postEvent = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/_dx/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

describe('the Python clock', { skip: python ? false : NO_PYTHON }, () => {
  let sys: ClockSystem
  before(async () => {
    sys = await startClockSystem(randomBytes(16).toString('hex'))
  })
  after(() => sys?.stop())

  test('its widget through the gateway, in the main page\'s slot', async () => {
    const r = await fetch(`${sys.gateway.url}/clock`, { headers: { 'hx-request': 'true' } })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-dx-fallback'), null)
    const body = await r.text()
    assert.match(body, /^<div class="dx-widget[^"]*" data-dx-widget="clock">/)
    assert.match(body, /Server time <time datetime="\d{4}-\d\d-\d\dT[\d:]+\+00:00">\d\d:\d\d:\d\d UTC<\/time>/)
    assert.match(body, /hx-post="\/clock\/tick"/)
    const main = await (await fetch(sys.gateway.url)).text()
    assert.match(main, /id="slot-clock"/, 'CLOCK_URL switched the optional clock on')
    assert.ok(main.includes(`href="${sys.clock.url}"`), 'the main page links the clock standalone')
  })

  test('a tick through the gateway: HX-Trigger reaches the browser and the event stream', async () => {
    let answer: Response | undefined
    const env = await nextEvent(sys.gateway.url, 'clock:ticked', async () => {
      answer = await fetch(`${sys.gateway.url}/clock/tick`, { method: 'POST', headers: { 'hx-request': 'true', 'x-dx-client': 'page-abc-123' } })
    })
    assert.equal(answer!.status, 200)
    assert.equal(answer!.headers.get('hx-trigger'), 'clock:ticked')
    assert.match(await answer!.text(), /Ticks so far: \d+/)
    assert.equal(env.source, 'clock')
    assert.equal(env.client, 'page-abc-123')
  })

  test('a tick on the standalone port is published, signed, to the gateway', async () => {
    const env = await nextEvent(sys.gateway.url, 'clock:ticked', async () => {
      const r = await fetch(`${sys.clock.url}/clock/tick`, { method: 'POST', headers: { 'hx-request': 'true', cookie: 'dx_actor=ana' } })
      assert.equal(r.headers.get('hx-trigger'), 'clock:ticked')
      await r.text()
    })
    assert.equal(env.source, 'clock')
    assert.equal(env.actor, 'ana')
  })

  test('events in: signed accepted once, bad or no signature 401, stale 400, foreign site 403, too large 413', async () => {
    const url = sys.clock.url
    const body = envelope()
    const ok = await postEvent(url, body, { 'x-dx-signature': sign(body, sys.secret) })
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { status: 'ok' })
    const again = await postEvent(url, body, { 'x-dx-signature': `sha256=${sign(body, sys.secret)}` })
    assert.deepEqual(await again.json(), { status: 'duplicate' }, 'a repeated id is handled once')
    const widget = await (await fetch(`${url}/clock`)).text()
    assert.equal(widget.match(/todo:added<\/span> from todo/g)?.length, 1)

    assert.equal((await postEvent(url, envelope(), { 'x-dx-signature': sign(envelope(), 'wrong') })).status, 401)
    assert.equal((await postEvent(url, envelope())).status, 401)
    const old = envelope({ time: new Date(Date.now() - 11 * 60_000).toISOString() })
    const stale = await postEvent(url, old, { 'x-dx-signature': sign(old, sys.secret) })
    assert.equal(stale.status, 400)
    assert.match((await stale.json()).error, /11 minutes old/)
    const bad = envelope({ name: 'Not An Event' })
    assert.equal((await postEvent(url, bad, { 'x-dx-signature': sign(bad, sys.secret) })).status, 400)
    const other = envelope({ name: 'chat:posted', source: 'chat' })
    assert.deepEqual(await (await postEvent(url, other, { 'x-dx-signature': sign(other, sys.secret) })).json(), { status: 'ignored' })

    const foreign = await fetch(`${url}/clock/tick`, { method: 'POST', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    assert.equal(foreign.status, 403)
    assert.match(await foreign.text(), /Cross-site request refused/)
    const fromGateway = await fetch(`${url}/clock/tick`, { method: 'POST', headers: { origin: sys.gateway.url, 'sec-fetch-site': 'cross-site' } })
    assert.equal(fromGateway.status, 200, 'the gateway\'s pages may write')
    await fromGateway.text()
    const big = await fetch(`${url}/_dx/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) }).catch((e: Error) => e)
    if (big instanceof Response) assert.equal(big.status, 413)
    else assert.fail(`the oversized body got no answer: ${big.message}`)
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still serving')
  })

  test('the gateway delivers a subscribed event to it, signed', async () => {
    // The gateway reads the clock's manifest once its health probe sees it up.
    const body = envelope({ detail: { text: 'eggs' } })
    const r = await fetch(`${sys.gateway.url}/_dx/publish`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-dx-signature': sign(body, sys.secret) }, body })
    assert.equal(r.status, 202)
    const id = JSON.parse(body).id as string
    for (let i = 0; ; i++) {
      const widget = await (await fetch(`${sys.clock.url}/clock`)).text()
      const count = Number(/Events heard from other services: (\d+)/.exec(widget)?.[1])
      // The direct delivery of the previous test counted 1; this one makes it 2.
      if (count >= 2) break
      if (i > 100) assert.fail(`the gateway did not deliver ${id} to the clock within 10 s\n${sys.gateway.output.slice(-2000)}`)
      await sleep(100)
    }
  })

  test('its standalone page: a full document in the gateway\'s layout, assets from the gateway', async () => {
    const r = await fetch(`${sys.clock.url}/`)
    assert.equal(r.status, 200)
    const page = await r.text()
    assert.match(page, /^<!doctype html>\s*<html lang="en">/)
    assert.match(page, /<title>distributex · Clock<\/title>/)
    assert.ok(page.includes(`<meta name="dx-gateway" content="${sys.gateway.url}" />`))
    // The same hashed stylesheet as the main page, from the gateway's origin.
    const main = await (await fetch(sys.gateway.url)).text()
    const css = /<link rel="stylesheet" href="(\/assets\/app\.[0-9a-f]{8}\.css)"/.exec(main)?.[1]
    assert.ok(css, 'the main page links a hashed stylesheet')
    assert.ok(page.includes(`<link rel="stylesheet" href="${sys.gateway.url}${css}" />`), 'the clock page links the same CSS at the gateway')
    const sheet = await fetch(`${sys.gateway.url}${css}`)
    assert.equal(sheet.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    const text = await sheet.text()
    // Every class of the widget is in the shared CSS: the clock looks like the others.
    const widget = /<main[^>]*>([\s\S]*)<\/main>/.exec(page)![1]
    const classes = new Set([...widget.matchAll(/class="([^"]+)"/g)].flatMap((m) => m[1].split(/\s+/)))
    for (const c of classes) {
      if (c.startsWith('dx-')) continue // hooks for dx.js, not styles
      assert.ok(text.includes(`.${c.replace(/:/g, '\\:')}`), `the shared CSS has .${c}`)
    }
    const csp = r.headers.get('content-security-policy') ?? ''
    assert.ok(csp.includes(`script-src 'self' ${sys.gateway.url};`), csp)
    assert.ok(csp.includes(`style-src 'self' ${sys.gateway.url};`), csp)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(r.headers.get('referrer-policy'), 'same-origin')
  })
})

describe('the Python clock on its own', { skip: python ? false : NO_PYTHON }, () => {
  test('without a secret: events refused with 503; a down gateway: the built-in layout, quickly', async (t) => {
    const clock = await startClock({ DX_EVENT_SECRET: '', DX_GATEWAY_URL: 'http://127.0.0.1:9' })
    t.after(() => clock.stop())
    const body = envelope()
    const r = await postEvent(clock.url, body, { 'x-dx-signature': sign(body, 'anything') })
    assert.equal(r.status, 503)
    assert.match((await r.json()).error, /DX_EVENT_SECRET is not set/)
    const page = await (await fetch(`${clock.url}/`)).text()
    assert.match(page, /^<!doctype html>/)
    assert.ok(page.includes('<link rel="stylesheet" href="http://127.0.0.1:9/assets/app.css" />'), 'the fallback frame links the gateway\'s plain URLs')
    assert.match(page, /data-dx-widget="clock"/)
    assert.equal((await fetch(`${clock.url}/nowhere`)).status, 404)
  })

  test('SIGTERM: it drains and exits 0', async () => {
    const clock = await startClock({ DX_GATEWAY_URL: 'http://127.0.0.1:9' })
    assert.equal(await clock.stop(), 0)
    assert.match(clock.output, /SIGTERM: draining[\s\S]*stopped/)
  })
})
