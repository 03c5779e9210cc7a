import type { Context } from 'hono'
import { envelopeError, replayError, SeenIds, verify, type Envelope } from './events.js'
import type { Logger } from './log.js'
import { throttledWarn } from './throttle.js'

export type ReceiveOptions = {
  subscribes: readonly string[]
  onEvent?: (event: Envelope) => void | Promise<void>
  log: Logger
  /** Read on each request; unset or empty refuses every event. */
  secret: () => string | undefined
}

export const NO_SECRET = 'events are refused: DX_EVENT_SECRET is not set'

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300)

/**
 * `POST /_dx/events` (DESIGN.md, protocol point 7). The body cap is checked before this
 * runs (guards.ts). Delivery is at least once, so the answer tells the sender what to do:
 * 2xx is done (applied, a duplicate of an applied one, or not subscribed), 4xx will never
 * succeed (unsigned, malformed, replayed), 5xx is to be sent again (no secret here yet, or
 * the handler failed). An id is remembered only once its handler has succeeded, so a
 * handler that throws runs again on the redelivery instead of being answered "duplicate".
 */
export function receiveEvents(o: ReceiveOptions) {
  const { log } = o
  const seen = new SeenIds()
  // The same id arriving while its handler still runs (a retry after a timeout): the
  // second waits for the first rather than running the handler twice at once.
  const running = new Map<string, Promise<void>>()
  const warn = throttledWarn(log)

  return async (c: Context) => {
    const secret = o.secret()
    if (!secret) {
      warn('no-secret', `POST /_dx/events refused with 503: ${NO_SECRET}`)
      return c.json({ error: NO_SECRET }, 503)
    }
    const body = await c.req.text()
    if (!verify(body, c.req.header('x-dx-signature'), secret)) {
      warn('signature', 'POST /_dx/events refused with 401: bad or missing X-Dx-Signature')
      return c.json({ error: 'bad or missing X-Dx-Signature' }, 401)
    }
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch {
      warn('json', 'POST /_dx/events refused with 400: the body is not JSON')
      return c.json({ error: 'body is not JSON' }, 400)
    }
    const problem = envelopeError(value)
    if (problem) {
      warn('shape', `POST /_dx/events refused with 400: bad event envelope: ${problem}`)
      return c.json({ error: `bad event envelope: ${problem}` }, 400)
    }
    const env = value as Envelope
    const stale = replayError(env.time)
    if (stale) {
      warn('replay', `POST /_dx/events refused with 400: ${env.name} ${env.id}: ${stale}`)
      return c.json({ error: `event refused: ${stale}` }, 400)
    }
    if (!o.subscribes.includes(env.name)) return c.json({ status: 'ignored' })
    if (seen.has(env.id)) return c.json({ status: 'duplicate' })

    let run = running.get(env.id)
    const first = run === undefined
    if (!run) {
      run = Promise.resolve().then(() => o.onEvent?.(env))
      running.set(env.id, run)
    }
    try {
      await run
    } catch (err) {
      if (first) log.error(`handling ${env.name} ${env.id} from ${env.source} failed, the sender will try again:`, err)
      return c.json({ error: `the handler of ${env.name} failed: ${reasonOf(err)}` }, 500)
    } finally {
      if (first) running.delete(env.id)
    }
    if (!first) return c.json({ status: 'duplicate' })
    seen.add(env.id)
    return c.json({ status: 'ok' })
  }
}
