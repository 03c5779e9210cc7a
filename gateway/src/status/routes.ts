import { Hono } from 'hono'
import { FRAGMENT_PATH, statusFragment, statusPage } from './page.js'
import type { StatusSnapshot } from './snapshot.js'

/**
 * `GET /_dx/status` (the live page), `GET /_dx/status/fragment` (what it refreshes) and
 * `GET /_dx/status.json` (the same data). `snapshot` is called once per request.
 */
export function statusRoutes(snapshot: () => StatusSnapshot) {
  const app = new Hono()
  const fresh = { 'cache-control': 'no-store' }
  app.get('/_dx/status', (c) => c.html(statusPage(snapshot()), 200, fresh))
  app.get(FRAGMENT_PATH, (c) => c.html(statusFragment(snapshot()), 200, fresh))
  app.get('/_dx/status.json', (c) => c.json(snapshot(), 200, fresh))
  return app
}
