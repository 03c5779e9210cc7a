import { timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { DeliveryQueue } from './delivery.js'
import { GATEWAY_MARK_HEADER, gatewayMark, makeEnvelope, relayError, sign, type Envelope } from './events.js'
import { eventsOf } from './hx-trigger.js'
import type { Logger } from './log.js'
import { gatewayUrl } from './origins.js'
import { logThrottle, throttledWarn } from './throttle.js'

/** The cookie chat sets on join: who the browser is, for the `actor` of its events. */
export const ACTOR_COOKIE = 'dx_actor'
/** The page id dx.js sends, so the page that caused an event does not react to it twice. */
export const CLIENT_HEADER = 'x-dx-client'
/** Each try of one envelope, the answer included. */
export const PUBLISH_TRY_TIMEOUT_MS = 2000
/** Envelopes waiting at most; past it the oldest waiting one is dropped (and logged). */
export const PUBLISH_QUEUE_MAX = 1000

/** Where a service publishes: `DX_PUBLISH_URL`, else the gateway's `/_dx/publish`. */
export const publishUrl = (): string => process.env.DX_PUBLISH_URL || new URL('/_dx/publish', gatewayUrl()).href

/** Whether a request carries the gateway's mark: compared in constant time, a forgery gains nothing. */
export function fromGateway(value: string | undefined, secret: string): boolean {
  if (!value) return false
  const got = Buffer.from(value)
  const want = Buffer.from(gatewayMark(secret))
  return got.length === want.length && timingSafeEqual(got, want)
}

type Outgoing = { env: Envelope; body: string; signature: string; url: string; log: Logger }

class Refused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

// 4xx will not change however often it is sent (bad signature, bad envelope, unknown
// source); 408 and 429 are the gateway asking for later.
const permanent = (err: unknown) => err instanceof Refused && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429

async function send(o: Outgoing) {
  let r: Response
  try {
    r = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dx-signature': o.signature },
      body: o.body,
      signal: AbortSignal.timeout(PUBLISH_TRY_TIMEOUT_MS),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code
    throw new Error(`${o.url}: ${cause ?? (err as Error).message}`)
  }
  const text = await r.text().catch(() => '')
  if (!r.ok) throw new Refused(`${o.url} answered ${r.status}: ${text.slice(0, 200)}`, r.status)
}

// One queue per process, whatever the number of services in it: envelopes leave one at a
// time, in the order their responses were made, each tried again with backoff (100 ms
// doubling to 5 s, 8 tries) until the gateway takes it.
let queue: DeliveryQueue<Outgoing> | undefined

function theQueue(): DeliveryQueue<Outgoing> {
  if (queue) return queue
  const retried = new WeakMap<Outgoing, number>()
  // A gateway that is down fails every envelope: one line a minute says so, not one each.
  const allow = logThrottle()
  const warn = (kind: string, o: Outgoing, msg: string) => {
    const suffix = allow(kind)
    if (suffix !== null) o.log.warn(msg + suffix)
  }
  queue = new DeliveryQueue<Outgoing>({
    max: PUBLISH_QUEUE_MAX,
    send,
    permanent,
    onRetry: (o, err, delay) => {
      const tries = (retried.get(o) ?? 0) + 1
      retried.set(o, tries)
      if (tries === 1) warn('retry', o, `publishing ${o.env.name} ${o.env.id} failed (${(err as Error).message}); trying again in ${delay} ms`)
    },
    onDelivered: (o) => {
      const tries = retried.get(o)
      if (tries) o.log.info(`published ${o.env.name} ${o.env.id} after ${tries + 1} tries`)
    },
    onGaveUp: (o, err) =>
      o.log.error(`gave up publishing ${o.env.name} ${o.env.id}${permanent(err) ? ' (refused: not tried again)' : ''}: ${(err as Error).message}`),
    onDropped: (o) => warn('dropped', o, `the publish queue is full (${PUBLISH_QUEUE_MAX}); dropped ${o.env.name} ${o.env.id}`),
  })
  return queue
}

/** The process's publish queue (undefined until something was published): counters, `drained()`. */
export const publishQueue = () => queue

/** On a graceful stop: waits for what is still waiting to be published, at most `ms`. */
export async function flushPublished(ms: number, log: Logger): Promise<void> {
  if (!queue || queue.size === 0) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([queue.drained(), new Promise<void>((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
  if (queue.size > 0) log.warn(`${queue.size} event(s) not yet published to the gateway are lost with this stop`)
}

/**
 * Publishes the events of responses made on this service's own port (DESIGN.md, protocol
 * point 8). A request forwarded by the gateway carries its mark and the gateway relays its
 * events itself: publishing those too would deliver every event twice. The response is
 * never held up: envelopes are queued and sent in the background, and the headers reach
 * the browser as the route set them.
 */
export function publishMiddleware(o: { source: string; log: Logger; secret: () => string | undefined }): MiddlewareHandler {
  const notRelayed = throttledWarn(o.log)
  const publish = (c: Context) => {
    const h = c.res.headers
    if (!h.has('hx-trigger') && !h.has('hx-trigger-after-swap') && !h.has('hx-trigger-after-settle')) return
    const secret = o.secret()
    if (!secret) return
    if (fromGateway(c.req.header(GATEWAY_MARK_HEADER), secret)) return
    const headers = {
      'hx-trigger': h.get('hx-trigger') ?? undefined,
      'hx-trigger-after-swap': h.get('hx-trigger-after-swap') ?? undefined,
      'hx-trigger-after-settle': h.get('hx-trigger-after-settle') ?? undefined,
    }
    const events = eventsOf(headers, (header, value) => notRelayed(`malformed ${header}`, `${header} is malformed, its events are not published: ${value.slice(0, 100)}`))
    if (events.length === 0) return
    const actor = getCookie(c, ACTOR_COOKIE)
    const client = c.req.header(CLIENT_HEADER)
    const url = publishUrl()
    for (const e of events) {
      const why = relayError(e.name, e.detail)
      if (why) {
        notRelayed(`not relayed ${why}`, `event not published (it still reaches the browser): ${why}`)
        continue
      }
      const env = makeEnvelope({ name: e.name, detail: e.detail, source: o.source, actor, client })
      const body = JSON.stringify(env)
      theQueue().push({ env, body, signature: sign(body, secret), url, log: o.log })
    }
  }
  return async (c, next) => {
    await next()
    // The write is done and answered: whatever goes wrong here is logged, never its answer.
    try {
      publish(c)
    } catch (err) {
      o.log.error(`${c.req.method} ${c.req.path}: its events could not be published`, err)
    }
  }
}
