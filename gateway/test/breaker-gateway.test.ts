// The breaker in the gateway: it opens on failures, answers widget reads at once while
// open, lets one trial through after 5 s, and closes when the trial succeeds.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sleep } from '@dx/testkit'
import { gateway, htmx, upstream } from './helpers.js'

test('a failing replica opens its breaker; reads are answered at once; one trial after 5 s closes it', async () => {
  let failing = true
  let hits = 0
  const up = await upstream((_req, res) => {
    hits++
    if (failing) return void res.writeHead(500, { 'content-type': 'text/plain' }).end('broken')
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>healthy</p>')
  })
  const gw = await gateway([up.url])
  const breaker = () => gw.registry.snapshot().services[0].replicas[0].breaker.state

  for (let i = 0; i < 10; i++) await (await fetch(`${gw.url}/svc`, { headers: htmx })).arrayBuffer()
  assert.equal(breaker(), 'open', 'half of at least 10 requests failed')

  // Open: answered by the gateway, quickly, without a request to the replica.
  const before = hits
  const t0 = performance.now()
  const r = await fetch(`${gw.url}/svc`, { headers: htmx })
  const ms = performance.now() - t0
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('x-dx-fallback'), 'unavailable')
  assert.equal(hits, before)
  console.log(`  answer while the breaker is open: ${ms.toFixed(1)} ms`)

  failing = false
  await sleep(5100)
  // Half-open: one trial goes through; it succeeds and the breaker closes.
  const trial = await fetch(`${gw.url}/svc`, { headers: htmx })
  assert.equal(await trial.text(), '<p>healthy</p>')
  assert.equal(hits, before + 1)
  assert.equal(breaker(), 'closed')
  await gw.close()
  await up.close()
})
