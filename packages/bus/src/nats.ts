import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { queueError, subjectError, type Bus, type BusLogger, type BusState, type BusStatus, type Handler } from './bus.js'

export type NatsBusOptions = {
  /** `nats://host:port` URLs of one cluster; any of them will do. */
  servers: string[]
  log: BusLogger
  /** Put before every subject (`<prefix>.dx.events.x`), so that separate systems or test runs on one server never meet. */
  prefix?: string
  /** The connection's name on the server's monitoring pages. */
  name?: string
  /** Publishes held while not connected, at most; default 10,000. */
  maxBuffered?: number
  /** Bytes held while not connected, at most; default 8 MiB. */
  maxBufferedBytes?: number
  /** Pause between connection attempts, plus a random jitter up to `jitterMs`; defaults 1 s and 1 s. */
  reconnectWaitMs?: number
  jitterMs?: number
  /** How long one connection attempt may take; default 5 s. */
  connectTimeoutMs?: number
  /** A handler that throws or rejects; default logs it. */
  onError?: (e: unknown, subject: string) => void
}

/** A publish the bus could not take: not connected, and the hold is full. */
export class BusFullError extends Error {}

type Sub = { subject: string; handler: Handler; queue?: string; nats?: Subscription }
type Held = { subject: string; payload: Uint8Array }

const enc = new TextEncoder()
const dec = new TextDecoder()

/**
 * The bus over NATS. It connects in the background and never gives up: the first
 * connection is retried here (the process serves meanwhile), later losses by the client,
 * both with a jittered pause, so that a fleet does not reconnect in step. Subscriptions
 * are made again on each connection.
 *
 * While not connected, publishes are held here, up to `maxBuffered` messages and
 * `maxBufferedBytes`, and sent in order once connected. Past that bound a publish rejects
 * with BusFullError and is counted as dropped: the caller learns that this message is
 * lost (the relay answers 503, chat's event handler fails so the event is sent again)
 * rather than memory growing without end. The NATS client's own buffer is not relied on:
 * it is cleared on every connection attempt.
 *
 * Delivery is at most once, as NATS core is: a message in flight when the link drops is
 * lost. Data travels as JSON.
 */
export function natsBus(o: NatsBusOptions): Bus {
  const { log, servers } = o
  const prefix = o.prefix ? `${o.prefix}.` : ''
  const maxBuffered = o.maxBuffered ?? 10_000
  const maxBufferedBytes = o.maxBufferedBytes ?? 8 * 1024 * 1024
  const waitMs = o.reconnectWaitMs ?? 1000
  const jitterMs = o.jitterMs ?? 1000
  const onError = o.onError ?? ((e: unknown, subject: string) => log.error(`a handler for ${subject} failed`, e))
  const where = servers.join(', ')

  let nc: NatsConnection | undefined
  let status: BusStatus = { kind: 'nats', state: 'connecting', since: Date.now(), buffered: 0, dropped: 0 }
  const listeners = new Set<(s: BusStatus) => void>()
  const subs = new Set<Sub>()
  let held: Held[] = []
  let heldBytes = 0
  let wake: (() => void) | undefined

  function setState(state: BusState, server?: string) {
    if (status.state === state && status.server === server) return
    const was = status.state
    status = { ...status, state, since: Date.now(), server }
    if (state === 'connected') log.info(`bus: connected to NATS at ${server ?? where}${was === 'connecting' ? '' : ` (was ${was})`}`)
    else if (state === 'reconnecting') log.warn(`bus: lost NATS (${where}); reconnecting, holding up to ${maxBuffered} publishes meanwhile`)
    else if (state === 'closed') log.info('bus: closed')
    for (const fn of listeners) fn({ ...status })
  }

  function deliver(sub: Sub, msg: Msg) {
    const subject = prefix ? msg.subject.slice(prefix.length) : msg.subject
    let data: unknown
    try {
      data = msg.data.length === 0 ? undefined : JSON.parse(dec.decode(msg.data))
    } catch (e) {
      return onError(new Error(`a message on ${subject} is not JSON`, { cause: e }), subject)
    }
    try {
      const r = sub.handler(data, subject)
      if (r && typeof r.then === 'function') r.then(undefined, (e) => onError(e, subject))
    } catch (e) {
      onError(e, subject)
    }
  }

  function attach(sub: Sub) {
    if (!nc) return
    sub.nats = nc.subscribe(prefix + sub.subject, {
      queue: sub.queue,
      callback: (err, msg) => (err ? log.warn(`bus: subscription to ${sub.subject} failed`, err) : deliver(sub, msg)),
    })
  }

  /** Sends what was held while not connected, oldest first. */
  function flushHeld() {
    if (!nc || status.state !== 'connected') return
    const out = held
    held = []
    heldBytes = 0
    status.buffered = 0
    for (const m of out) nc.publish(m.subject, m.payload)
    if (out.length) log.info(`bus: sent ${out.length} publishes held while not connected`)
  }

  async function watch(c: NatsConnection) {
    for await (const s of c.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') setState('reconnecting')
      else if (s.type === 'reconnect') {
        setState('connected', s.server)
        flushHeld()
      } else if (s.type === 'error') log.warn('bus: NATS reported an error', s.error)
      else if (s.type === 'slowConsumer') log.warn(`bus: slow consumer on ${s.sub.getSubject()} (${s.pending} pending)`)
    }
  }

  /** The first connection: retried until it succeeds or the bus is closed. */
  async function start() {
    for (let attempt = 1; status.state !== 'closed'; attempt++) {
      try {
        const c = await connect({
          servers,
          name: o.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: waitMs,
          reconnectJitter: jitterMs,
          timeout: o.connectTimeoutMs ?? 5000,
          // A server gone silent (no RST) is noticed in about 20 s rather than minutes.
          pingInterval: 10_000,
          maxPingOut: 2,
        })
        // Closed while this attempt was under way.
        if ((status.state as BusState) === 'closed') return void (await c.close())
        nc = c
        break
      } catch (e) {
        if (attempt === 1 || attempt % 60 === 0) log.warn(`bus: cannot reach NATS at ${where} (${(e as Error).message}); retrying in the background`)
        await new Promise<void>((r) => {
          const t = setTimeout(r, waitMs + Math.random() * jitterMs)
          wake = () => (clearTimeout(t), r())
        })
      }
    }
    const c = nc
    if (!c) return
    for (const s of subs) attach(s)
    setState('connected', c.getServer())
    flushHeld()
    void watch(c)
    void c.closed().then((err) => {
      if (status.state === 'closed') return
      log.error(`bus: the NATS connection closed for good${err ? `: ${err.message}` : ''}`)
      setState('closed')
    })
  }
  void start()

  return {
    async publish(subject, data) {
      const bad = subjectError(subject)
      if (bad) throw new Error(bad)
      if (status.state === 'closed') throw new Error('bus is closed')
      const json = JSON.stringify(data)
      const payload = json === undefined ? new Uint8Array() : enc.encode(json)
      if (nc && status.state === 'connected') return nc.publish(prefix + subject, payload)
      if (held.length >= maxBuffered || heldBytes + payload.length > maxBufferedBytes) {
        status.dropped++
        if (status.dropped % 1000 === 1) log.warn(`bus: not connected and ${held.length} publishes are held; refused one on ${subject} (${status.dropped} so far)`)
        throw new BusFullError(`the event bus is not connected and its buffer is full (${held.length} messages); not sent`)
      }
      held.push({ subject: prefix + subject, payload })
      heldBytes += payload.length
      status.buffered = held.length
    },
    subscribe(subject, handler, opts = {}) {
      const bad = subjectError(subject, true) ?? (opts.queue === undefined ? null : queueError(opts.queue))
      if (bad) throw new Error(bad)
      const sub: Sub = { subject, handler, queue: opts.queue }
      subs.add(sub)
      attach(sub)
      return () => {
        subs.delete(sub)
        sub.nats?.unsubscribe()
      }
    },
    status: () => ({ ...status }),
    onStatus(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    async close() {
      if (status.state === 'closed') return
      if (held.length) log.warn(`bus: closing with ${held.length} publishes never sent`)
      held = []
      status.buffered = 0
      setState('closed')
      listeners.clear()
      wake?.()
      const c = nc
      if (!c || c.isClosed()) return
      // Sends what is queued, within a bound: a dead server must not hold a shutdown.
      const drained = c.drain().catch(() => {})
      const late = await Promise.race([drained.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 2000).unref())])
      if (late) await c.close().catch(() => {})
    },
  }
}
