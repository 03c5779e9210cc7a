import type { Bus } from '@dx/bus'
import { DeliveryQueue, envelopeError, EVENT_NAME, sign, type Envelope, type Logger } from '@dx/kit'
import { fetchManifest, ManifestUnreachable } from '../health/manifest.js'
import type { Route } from '../proxy/route.js'
import { subjectOf } from './relay.js'

/** The queue group of one service's deliveries: with N gateways on one bus, one of them POSTs each event. */
export const deliveryGroup = (service: string) => `dx-deliver-${service}`

const TRY_TIMEOUT_MS = 2000

/** The events a checked manifest subscribes to, or why its list cannot be used. */
function subscribesOf(m: Record<string, unknown>): string[] | { error: string } {
  const subs = m.subscribes ?? []
  if (!Array.isArray(subs) || !subs.every((s) => typeof s === 'string' && EVENT_NAME.test(s))) {
    return { error: 'its manifest\'s "subscribes" is not a list of "service:verb" names' }
  }
  return subs as string[]
}

class Rejected extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message)
  }
}

/**
 * Delivers each envelope on the bus to every service that subscribes to it, except its
 * source, as a signed `POST /_dx/events`: at least once, in order per service, through a
 * bounded queue per service. Subscriptions come from the services' manifests, read at
 * start and again now and then, so a service that starts later is found.
 *
 * On the bus, each (service, event) pair is one subscription to `dx.events.<name>` in the
 * queue group `dx-deliver-<service>`: every gateway that knows the subscription joins the
 * group, and the bus hands each event to one of them, so a service gets it once however
 * many gateways run (the pages' streams subscribe without a group: every gateway gets all).
 */
export function createDelivery(o: { bus: Bus; log: Logger; routes: Iterable<Route>; secret?: string; refreshMs?: number }) {
  const { bus, log, secret } = o
  const routes = [...o.routes]
  const subscriptions = new Map<string, Set<string>>()
  const queues = new Map<string, DeliveryQueue<Envelope>>()
  const stats = new Map<string, { ok: number; retried: number; failed: number; dropped: number }>()
  const manifestErrors = new Map<string, string>()
  /** Per service, the bus subscription of each event it subscribes to. */
  const following = new Map<string, Map<string, () => void>>()
  let closed = false

  const statsOf = (service: string) => {
    let s = stats.get(service)
    if (!s) stats.set(service, (s = { ok: 0, retried: 0, failed: 0, dropped: 0 }))
    return s
  }

  async function post(route: Route, env: Envelope) {
    const replica = route.upstreams.pick()
    if (!replica) throw new Rejected('no replica is configured')
    const body = JSON.stringify(env)
    const t0 = Date.now()
    let r: Response
    try {
      r = await fetch(new URL('/_dx/events', replica), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-dx-signature': sign(body, secret!) },
        body,
        signal: AbortSignal.timeout(TRY_TIMEOUT_MS),
      })
    } catch (e) {
      // Counted like a proxied request, so a replica that is gone is passed over here too.
      const code = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code
      route.upstreams.report(replica, code === 'ECONNREFUSED' ? 'connect-fail' : 'fail', Date.now() - t0, code ?? (e as Error).message)
      throw e
    }
    const text = await r.text().catch(() => '')
    route.upstreams.report(replica, r.status >= 500 ? 'fail' : 'ok', Date.now() - t0, r.status >= 500 ? `answered ${r.status} to an event` : undefined)
    if (!r.ok) throw new Rejected(`${replica.origin} answered ${r.status}: ${text.slice(0, 200)}`, r.status)
  }

  function queueFor(route: Route) {
    const name = route.service.name
    let q = queues.get(name)
    if (q) return q
    const s = statsOf(name)
    q = new DeliveryQueue<Envelope>({
      send: (env) => post(route, env),
      // A refusal (bad signature, bad envelope) will not change by sending it again.
      permanent: (err) => err instanceof Rejected && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429,
      onDelivered: () => s.ok++,
      onRetry: (env, err, delay) => {
        s.retried++
        if (s.retried % 100 === 1) log.warn(`delivering ${env.name} to ${name} failed (${(err as Error).message}); trying again in ${delay} ms`)
      },
      onGaveUp: (env, err) => {
        s.failed++
        log.error(`gave up delivering ${env.name} (${env.id}) to ${name}: ${(err as Error).message}`)
      },
      onDropped: (env) => {
        s.dropped++
        if (s.dropped % 1000 === 1) log.warn(`${name}'s event queue is full; dropped the oldest (${env.name}), ${s.dropped} so far`)
      },
    })
    queues.set(name, q)
    return q
  }

  async function readOne(route: Route) {
    const name = route.service.name
    // A replica picked at random (no outcome reported: a probe, not a request), checked the
    // way the health registry checks it.
    const replica = route.upstreams.replicas[Math.floor(Math.random() * route.upstreams.replicas.length)]?.url
    if (!replica) return
    try {
      const checked = await fetchManifest(replica, name, AbortSignal.timeout(TRY_TIMEOUT_MS))
      if (!checked.ok) throw new Error(checked.reason)
      const subs = subscribesOf(checked.manifest)
      if ('error' in subs) throw new Error(subs.error)
      const before = [...(subscriptions.get(name) ?? [])].join(', ')
      subscriptions.set(name, new Set(subs))
      follow(route)
      manifestErrors.delete(name)
      if (before !== subs.join(', ') && subs.length) log.info(`${name} subscribes to ${subs.join(', ')}`)
    } catch (e) {
      const why = (e as Error).message
      // Not listening yet (make start starts every part at once) says nothing new: the
      // health checks report a replica that stays away, and one coming up is read again.
      const starting = e instanceof ManifestUnreachable && !subscriptions.has(name)
      if (!starting && manifestErrors.get(name) !== why) log.warn(`${name}: no usable manifest at ${replica.origin} (${why}); its subscriptions are kept as they were`)
      manifestErrors.set(name, why)
    }
  }

  function onEnvelope(route: Route, data: unknown) {
    const name = route.service.name
    // The bus spans processes: what comes off it is checked before the gateway signs it.
    const problem = envelopeError(data)
    if (problem) return log.warn(`not delivered to ${name}: bad envelope on the bus: ${problem}`)
    const env = data as Envelope
    if (name !== env.source && subscriptions.get(name)?.has(env.name)) queueFor(route).push(env)
  }

  /** Makes the service's bus subscriptions match its manifest's list. */
  function follow(route: Route) {
    if (!secret || closed) return
    const name = route.service.name
    const wanted = subscriptions.get(name) ?? new Set<string>()
    let mine = following.get(name)
    if (!mine) following.set(name, (mine = new Map()))
    for (const [event, off] of mine) {
      if (wanted.has(event)) continue
      off()
      mine.delete(event)
    }
    for (const event of wanted) {
      if (!mine.has(event)) mine.set(event, bus.subscribe(subjectOf(event), (data) => onEnvelope(route, data), { queue: deliveryGroup(name) }))
    }
  }

  /** Reads the manifests again: all services, or one whose replica just came up. */
  async function refresh(service?: string) {
    await Promise.all(routes.filter((r) => !service || r.service.name === service).map(readOne))
  }

  let timer: NodeJS.Timeout | undefined
  if (!secret) {
    log.warn('DX_EVENT_SECRET is not set: events are not delivered to services (pages still get them)')
  } else {
    void refresh()
    const tick = () => {
      if (closed) return
      // Quickly while a service's manifest is missing, else now and then.
      const wait = manifestErrors.size || subscriptions.size < routes.length ? 5000 : (o.refreshMs ?? 30_000)
      timer = setTimeout(() => void refresh().then(tick), wait)
      timer.unref()
    }
    tick()
  }

  return {
    refresh,
    stats,
    subscriptions,
    manifestErrors,
    /** Resolves once every queue is empty (tests, graceful stop). */
    drained: () => Promise.all([...queues.values()].map((q) => q.drained())),
    close() {
      closed = true
      clearTimeout(timer)
      for (const mine of following.values()) for (const off of mine.values()) off()
      following.clear()
      for (const q of queues.values()) q.close()
    },
  }
}
export type Delivery = ReturnType<typeof createDelivery>
