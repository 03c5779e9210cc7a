import { createHmac, timingSafeEqual } from 'node:crypto'

/** The event envelope of the protocol (DESIGN.md, "The service protocol", point 7). */
export type Envelope = {
  id: string
  name: string
  detail: unknown
  source: string
  time: string
}

export function sign(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

export function verify(body: string, signature: string | undefined, secret: string): boolean {
  if (!signature) return false
  const want = Buffer.from(sign(body, secret), 'hex')
  const got = Buffer.from(signature.replace(/^sha256=/, ''), 'hex')
  return got.length === want.length && timingSafeEqual(got, want)
}

const EVENT_NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/

/** Checks the shape of an envelope; returns a message naming what is wrong, or null. */
export function envelopeError(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object'
  const e = value as Record<string, unknown>
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 200) return 'id: expected a non-empty string'
  if (typeof e.name !== 'string' || !EVENT_NAME.test(e.name)) return 'name: expected "service:verb"'
  if (typeof e.source !== 'string' || e.source.length === 0) return 'source: expected a non-empty string'
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time))) return 'time: expected an ISO date string'
  return null
}

/** Remembers recent ids so that an at-least-once redelivery is treated as done. */
export class SeenIds {
  private ids = new Set<string>()
  constructor(private max = 10_000) {}
  /** true the first time an id is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string)
    return true
  }
}
