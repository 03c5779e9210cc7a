import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { gatewayView } from '../lib/net.js'

test('gatewayView: the services with no replica up, whether the gateway probes at all; undefined when unreadable', async () => {
  let answer = { status: 200, body: '' }
  const server = createServer((_req, res) => void res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_dx/status.json`
  try {
    const replicas = (...h: string[]) => h.map((health, i) => ({ url: `http://r${i}`, health }))
    answer.body = JSON.stringify({
      services: [
        { name: 'todo', replicas: replicas('down', 'up') },
        { name: 'chat', replicas: replicas('unknown', 'down') },
        { name: 'news', replicas: replicas('foreign') },
      ],
    })
    assert.deepEqual(await gatewayView(url), { notUp: ['chat', 'news'], probing: true })
    answer.body = JSON.stringify({ services: [{ name: 'todo', replicas: replicas('up') }] })
    assert.deepEqual(await gatewayView(url), { notUp: [], probing: true })
    // health_interval_ms = 0: never probed, every replica unknown.
    answer.body = JSON.stringify({ services: [{ name: 'todo', replicas: replicas('unknown', 'unknown') }, { name: 'chat', replicas: replicas('unknown') }] })
    assert.deepEqual(await gatewayView(url), { notUp: ['todo', 'chat'], probing: false })
    answer = { status: 503, body: '{}' }
    assert.equal(await gatewayView(url), undefined)
    answer = { status: 200, body: 'not json' }
    assert.equal(await gatewayView(url), undefined)
  } finally {
    server.close()
  }
  assert.equal(await gatewayView('http://127.0.0.1:9/_dx/status.json'), undefined)
})
