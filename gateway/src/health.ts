import { Hono } from 'hono'
import type { Bus } from '@dx/bus'

/**
 * The gateway's own health: 200 while it serves, 503 once it is shutting down. The bus
 * state rides along (`connected`, `reconnecting`, …): a gateway whose bus reconnects still
 * serves pages and proxies, so it stays 200 and says so.
 */
export function health(state: { draining: boolean }, bus?: Pick<Bus, 'status'>) {
  const app = new Hono()
  app.get('/healthz', (c) => {
    const extra = bus ? { bus: bus.status().state } : {}
    return state.draining ? c.json({ status: 'draining', ...extra }, 503) : c.json({ status: 'ok', ...extra })
  })
  return app
}
