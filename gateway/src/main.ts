import { fileURLToPath } from 'node:url'
import { BusConfigError, waitConnected } from '@dx/bus'
import { logger } from '@dx/kit'
import { ConfigError, loadConfig } from './config.js'
import { createGateway } from './server.js'

const log = logger('gateway')
const file = process.env.DX_CONFIG ?? fileURLToPath(new URL('../gateway.toml', import.meta.url))

let cfg
try {
  cfg = loadConfig(file)
} catch (e) {
  if (!(e instanceof ConfigError)) throw e
  console.error(`gateway: bad configuration\n${e.message}`)
  process.exit(2)
}

let gw
try {
  gw = createGateway(cfg)
} catch (e) {
  if (!(e instanceof BusConfigError)) throw e
  console.error(`gateway: bad configuration\n${e.message}`)
  process.exit(2)
}
// A bounded wait for the bus; if it is not there yet, the gateway serves and keeps trying (/healthz says so).
if (!(await waitConnected(gw.bus, 5000))) log.warn(`the bus is ${gw.bus.status().state}; serving meanwhile`)
gw.server.listen(cfg.port, cfg.host, () => {
  for (const s of cfg.services) {
    log.info(`${s.prefix}/* → ${s.upstreams.map((u) => u.origin).join(', ') || '(no upstream)'}`)
  }
  log.info(`listening on http://${cfg.host === '127.0.0.1' ? 'localhost' : cfg.host}:${cfg.port}`)
})
gw.server.on('error', (e: NodeJS.ErrnoException) => {
  log.error(e.code === 'EADDRINUSE' ? `port ${cfg.port} is already in use (set PORT to use another)` : 'server error', e)
  process.exit(1)
})

// After an uncaught exception the process state is unknown: log it and exit, so the
// supervisor (make start, Docker, Kubernetes) starts a clean one.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e) => {
    log.error(event, (e as Error)?.stack ?? e)
    process.exit(1)
  })
}

// SIGTERM/SIGINT: stop taking requests, let those in flight finish (10 s at most), exit 0.
// A second signal does not wait.
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, async () => {
    if (gw.state.draining) process.exit(0)
    log.info(`${sig}: draining`)
    await gw.close(10_000)
    log.info('stopped')
    process.exit(0)
  })
}
