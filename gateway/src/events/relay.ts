import { Hono } from 'hono'
import type { Bus } from '@dx/bus'
import { envelopeError, makeEnvelope, relayError, replayError, verify, type Envelope, type HxEvent, type Logger } from '@dx/kit'

/** Who caused the events of one response: the chat nickname cookie and the page id. */
export type Cause = { actor?: string; client?: string }

export const subjectOf = (name: string) => `dx.events.${name}`
export const ALL_EVENTS = 'dx.events.>'

/**
 * Turns events into envelopes on the bus. Events come only from two places: the
 * HX-Trigger* headers of a service's response (the proxy calls `fromResponse`), and
 * signed envelopes a service posts to `/_dx/publish` for writes made on its own page.
 * Nothing a browser sends is ever an event.
 */
export function createRelay(o: { bus: Bus; log: Logger; services: readonly string[]; secret?: string }) {
  const { bus, log } = o
  const services = new Set(o.services)
  const stats = { relayed: new Map<string, number>(), notRelayed: 0, published: 0, refused: 0 }
  const warned = new Set<string>()

  async function publish(env: Envelope) {
    stats.relayed.set(env.name, (stats.relayed.get(env.name) ?? 0) + 1)
    await bus.publish(subjectOf(env.name), env)
  }

  /** The events of one upstream response; those that may not be relayed are counted and left to the browser. */
  function fromResponse(source: string, events: HxEvent[], cause: Cause) {
    for (const e of events) {
      const why = relayError(e.name, e.detail)
      if (why) {
        stats.notRelayed++
        // Once per kind: a service that keeps sending it must not flood the log.
        const key = `${source} ${why}`
        if (warned.size < 1000 && !warned.has(key)) {
          warned.add(key)
          log.warn(`${source}: event not relayed (it still reaches the browser; counted from now on): ${why}`)
        }
        continue
      }
      publish(makeEnvelope({ name: e.name, detail: e.detail, source, actor: cause.actor, client: cause.client })).catch((err) =>
        log.error(`could not publish ${e.name} from ${source}`, err),
      )
    }
  }

  /** `POST /_dx/publish`: one signed envelope from a service, for an event raised on its own page. */
  const routes = new Hono()
  routes.post('/_dx/publish', async (c) => {
    const refuse = (status: 400 | 401 | 403 | 503, error: string) => {
      stats.refused++
      log.warn(`/_dx/publish refused (${status}): ${error}`)
      return c.json({ error }, status)
    }
    if (!o.secret) return refuse(503, 'events are refused: DX_EVENT_SECRET is not set on the gateway')
    const body = await c.req.text()
    if (!verify(body, c.req.header('x-dx-signature'), o.secret)) return refuse(401, 'bad or missing X-Dx-Signature')
    let env: unknown
    try {
      env = JSON.parse(body)
    } catch {
      return refuse(400, 'body is not JSON')
    }
    const problem = envelopeError(env)
    if (problem) return refuse(400, `bad event envelope: ${problem}`)
    const e = env as Envelope
    const stale = replayError(e.time)
    if (stale) return refuse(400, stale)
    if (!services.has(e.source)) return refuse(403, `source "${e.source}" is not a configured service`)
    try {
      await publish(e)
    } catch (err) {
      // The bus is not connected and its buffer is full: the service keeps the event and tries again.
      log.error(`could not publish ${e.name} from ${e.source}`, err)
      return c.json({ error: `the event bus cannot take it now: ${(err as Error).message}` }, 503, { 'retry-after': '2' })
    }
    stats.published++
    return c.json({ status: 'accepted' }, 202)
  })

  return { fromResponse, routes, stats }
}
export type Relay = ReturnType<typeof createRelay>
