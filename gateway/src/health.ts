import { Hono } from 'hono'

/** The gateway's own health: 200 while it serves, 503 once it is shutting down. */
export function health(state: { draining: boolean }) {
  const app = new Hono()
  app.get('/healthz', (c) => (state.draining ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })))
  return app
}
