import { Hono } from 'hono'
import { shellPage } from '@dx/shell'
import type { GatewayConfig } from './config.js'

/** `GET /`: the main app with a slot for every configured service. */
export function compose(cfg: GatewayConfig) {
  const app = new Hono()
  const slots = cfg.services.map((s) => ({ name: s.name, title: s.title, widget: s.widget, standaloneUrl: s.standaloneUrl }))
  app.get('/', (c) => c.html(shellPage(slots)))
  return app
}
