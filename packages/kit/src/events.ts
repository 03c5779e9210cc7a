import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'

/** The event envelope of the protocol (DESIGN.md, "The service protocol", point 7). */
export type Envelope = {
  id: string
  name: string
  detail: unknown
  source: string
  time: string
  /** Who caused it: the nickname a browser joined chat with, when it did. */
  actor?: string
  /** The page whose request caused it, so that page does not react twice. */
  client?: string
}

/** `service:verb`, lowercase: the only names relayed between services and pages. */
export const EVENT_NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/
/** A detail larger than this (as JSON) is passed to the browser but not relayed. */
export const MAX_DETAIL_BYTES = 8 * 1024
/** An envelope whose time is further than this from now is refused: a replay or a broken clock. */
export const REPLAY_WINDOW_MS = 10 * 60 * 1000

const ACTOR = /^[A-Za-z0-9_.-]{1,24}$/
const CLIENT = /^[A-Za-z0-9-]{8,64}$/

export const validActor = (v: unknown): v is string => typeof v === 'string' && ACTOR.test(v)
export const validClient = (v: unknown): v is string => typeof v === 'string' && CLIENT.test(v)

/**
 * Why an event may not be relayed, or null: a name outside `service:verb`, or a detail
 * that is not JSON or is over the cap. Such events still reach the browser that caused them.
 */
export function relayError(name: string, detail: unknown): string | null {
  if (!EVENT_NAME.test(name)) return `name "${name.slice(0, 60)}" is not "service:verb"`
  let json: string | undefined
  try {
    json = JSON.stringify(detail ?? null)
  } catch {
    return 'detail is not JSON'
  }
  if (json === undefined || Buffer.byteLength(json) > MAX_DETAIL_BYTES) return `detail over ${MAX_DETAIL_BYTES} bytes`
  return null
}

/** A new envelope; actor and client are kept only when well-formed. */
export function makeEnvelope(e: { name: string; detail: unknown; source: string; actor?: unknown; client?: unknown }, now = new Date()): Envelope {
  const env: Envelope = { id: randomUUID(), name: e.name, detail: e.detail ?? null, source: e.source, time: now.toISOString() }
  if (validActor(e.actor)) env.actor = e.actor
  if (validClient(e.client)) env.client = e.client
  return env
}

/**
 * The header the gateway puts on every request it forwards, so a service knows the
 * gateway relays that request's events and it must not publish them itself. Clients
 * cannot send it (the gateway drops their X-Dx-* headers) nor forge it (it needs the secret).
 */
export const GATEWAY_MARK_HEADER = 'x-dx-via'
export const gatewayMark = (secret: string) => sign('dx-gateway-forwarded', secret)

export function sign(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

export function verify(body: string, signature: string | undefined, secret: string): boolean {
  if (!signature) return false
  const want = Buffer.from(sign(body, secret), 'hex')
  const got = Buffer.from(signature.replace(/^sha256=/, ''), 'hex')
  return got.length === want.length && timingSafeEqual(got, want)
}

/** Checks the shape of an envelope; returns a message naming what is wrong, or null. */
export function envelopeError(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object'
  const e = value as Record<string, unknown>
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 200) return 'id: expected a non-empty string'
  if (typeof e.name !== 'string' || !EVENT_NAME.test(e.name)) return 'name: expected "service:verb"'
  if (typeof e.source !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(e.source)) return 'source: expected a service name'
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time))) return 'time: expected an ISO date string'
  if (e.actor !== undefined && !validActor(e.actor)) return 'actor: expected a nickname'
  if (e.client !== undefined && !validClient(e.client)) return 'client: expected a page id'
  const relay = relayError(e.name, e.detail)
  if (relay) return relay
  return null
}

/** Why an envelope's time is refused (more than 10 minutes from now), or null. */
export function replayError(time: string, now = Date.now()): string | null {
  const skew = Date.parse(time) - now
  if (Math.abs(skew) <= REPLAY_WINDOW_MS) return null
  return `time ${time} is ${Math.round(Math.abs(skew) / 60_000)} minutes ${skew < 0 ? 'old' : 'ahead'}; at most ${REPLAY_WINDOW_MS / 60_000} are accepted`
}

/**
 * Ids whose handling succeeded, so that an at-least-once redelivery is answered as done.
 * An id is added only after its handler succeeded: a failed one must run again.
 */
export class SeenIds {
  private ids = new Set<string>()
  constructor(private max = 10_000) {}
  has(id: string): boolean {
    return this.ids.has(id)
  }
  /** true the first time an id is added. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string)
    return true
  }
}
