import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseConfig } from '../src/config.js'
import type { HxEvent } from '@dx/kit'
import { createGateway } from '../src/server.js'

export async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A plain HTTP upstream on a random port, answering with `handler`. */
export async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0) {
  const server = createServer(handler)
  const p = await listen(server, port)
  return {
    server,
    port: p,
    url: `http://127.0.0.1:${p}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** An in-process gateway with one service `svc` pointing at `upstreams`. */
export async function gateway(upstreams: string[], extra = '', gatewayExtra = '') {
  // Probing is off unless a test turns it on: these upstreams are plain HTTP servers, with
  // no /healthz or manifest, and their recorded traffic must be the test's own.
  const probing = /health_interval_ms/.test(gatewayExtra) ? '' : 'health_interval_ms = 0\n'
  const toml = `[gateway]\nport = 0\n${probing}${gatewayExtra}\n[[services]]\nname = "svc"\nupstreams = ${JSON.stringify(upstreams)}\n${extra}`
  const events: Array<{ service: string; events: HxEvent[] }> = []
  const gw = createGateway(parseConfig(toml, 'test.toml'), { onEvents: (service, e) => events.push({ service, events: e }) })
  const port = await listen(gw.server)
  // Tests leave requests hanging on purpose: a short grace keeps them quick.
  return { ...gw, close: () => gw.close(500), port, url: `http://127.0.0.1:${port}`, events }
}

export const htmx = { 'HX-Request': 'true' }
