// Reading the services' manifests for event delivery: what it tells the person at the logs.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { memoryBus } from '@dx/bus'
import { freePort } from '@dx/testkit'
import { parseConfig } from '../src/config.js'
import { createDelivery } from '../src/events/delivery.js'
import { routeTable } from '../src/proxy/route.js'

test('a service not listening yet at start is not warned about; one that answers with a wrong manifest is', async () => {
  const port = await freePort()
  const cfg = parseConfig(`[[services]]\nname = "todo"\nupstreams = ["http://127.0.0.1:${port}"]\n`, 'gw.toml', { DX_EVENT_SECRET: 'test-secret' })
  const warned: string[] = []
  const log = { info() {}, warn: (m: string) => void warned.push(m), error: (m: string) => void warned.push(m) }
  const delivery = createDelivery({ bus: memoryBus(), log, routes: routeTable(cfg.services).routes.values(), secret: cfg.eventSecret })
  const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"news","subscribes":[]}'))
  try {
    // make start starts the gateway beside the services: todo is not listening yet.
    await delivery.refresh()
    assert.deepEqual(warned, [])
    assert.match(delivery.manifestErrors.get('todo') ?? '', /ECONNREFUSED|refused/i)
    // Something else on todo's port is a mistake worth a line.
    await new Promise<void>((r) => other.listen(port, '127.0.0.1', r))
    await delivery.refresh()
    assert.equal(warned.length, 1)
    assert.match(warned[0], /todo: no usable manifest at http:\/\/127\.0\.0\.1:\d+ \(not a distributex service: its manifest names "news", not "todo"\)/)
  } finally {
    delivery.close()
    other.close()
  }
})
