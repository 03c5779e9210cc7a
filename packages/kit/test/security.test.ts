import assert from 'node:assert/strict'
import { test } from 'node:test'
import { contentSecurityPolicy, crossSiteRefusal, originAllowed, originList, securityHeaders } from '../src/security.js'

const gateway = originList('http://localhost:4040')
const post = (over: Partial<Parameters<typeof crossSiteRefusal>[0]>) =>
  crossSiteRefusal({ method: 'POST', hosts: ['127.0.0.1:4001'], allowed: gateway, ...over })

test('the CSP allows only our own scripts and styles, no framing, and the connect origins given', () => {
  const csp = contentSecurityPolicy(['http://localhost:4040'])
  assert.match(csp, /default-src 'self'/)
  assert.match(csp, /script-src 'self'(;|$)/)
  assert.match(csp, /style-src 'self'(;|$)/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.match(csp, /connect-src 'self' http:\/\/localhost:4040(;|$)/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
  assert.match(contentSecurityPolicy(), /connect-src 'self'(;|$)/)
  const h = securityHeaders()
  assert.equal(h['x-content-type-options'], 'nosniff')
  assert.equal(h['referrer-policy'], 'same-origin')
})

test('reads and programs pass; a write from another site is refused, naming its origin', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.equal(post({ method, origin: 'https://evil.example', secFetchSite: 'cross-site' }), null)
  assert.equal(post({}), null, 'no Origin, no Sec-Fetch-Site: curl or another service')
  assert.match(post({ origin: 'https://evil.example' })!, /^Cross-site request refused: a POST from https:\/\/evil\.example/)
  assert.match(post({ secFetchSite: 'cross-site' })!, /another site/)
  assert.match(post({ secFetchSite: 'same-site' })!, /another site/, 'another port of the same host is another origin')
  assert.notEqual(post({ method: 'DELETE', origin: 'null' }), null, 'sandboxed frames send Origin: null')
})

test('the same origin, the gateway and the allowed origins may write', () => {
  assert.equal(post({ secFetchSite: 'same-origin', origin: 'http://127.0.0.1:4001' }), null)
  assert.equal(post({ origin: 'http://127.0.0.1:4001' }), null, 'Origin host is the Host')
  assert.equal(post({ origin: 'HTTP://127.0.0.1:4001' }), null, 'case does not matter')
  assert.equal(post({ origin: 'http://localhost:4040', secFetchSite: 'same-site' }), null, 'the gateway')
  assert.notEqual(post({ origin: 'http://127.0.0.1:4002' }), null, 'another port is another origin')
  assert.notEqual(post({ origin: 'http://127.0.0.1:4001.evil.example' }), null)
})

test('originAllowed: the rule for WebSocket handshakes', () => {
  assert.equal(originAllowed('http://127.0.0.1:4002', ['127.0.0.1:4002'], gateway), true)
  assert.equal(originAllowed('http://localhost:4040', ['127.0.0.1:4002'], gateway), true)
  assert.equal(originAllowed('https://evil.example', ['127.0.0.1:4002'], gateway), false)
  assert.equal(originAllowed('null', ['null'], gateway), false)
  assert.equal(originAllowed('http://x', [undefined], undefined), false)
})

test('originList: comma-separated origins, lowercase, paths dropped, junk skipped', () => {
  assert.deepEqual([...originList('http://LocalHost:4040/', ' https://a.example/x , ftp://b, not a url', undefined, '')], [
    'http://localhost:4040',
    'https://a.example',
  ])
})
