/** An event named in an htmx response header, with its detail (null when none). */
export type HxEvent = { name: string; detail: unknown }

export type Parsed = { events: HxEvent[]; malformed: boolean }

/** The response headers that carry events, in the order htmx fires them. */
export const TRIGGER_HEADERS = ['hx-trigger', 'hx-trigger-after-swap', 'hx-trigger-after-settle'] as const

/**
 * Parses one header value in any of htmx's three forms: `a`, `a, b`, or a JSON object
 * of name to detail. Never throws: a malformed value yields no events and `malformed`.
 */
export function parseTrigger(value: string | undefined | null): Parsed {
  const text = (value ?? '').trim()
  if (!text) return { events: [], malformed: false }
  if (text.startsWith('{')) {
    try {
      const obj: unknown = JSON.parse(text)
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { events: [], malformed: true }
      return { events: Object.entries(obj).map(([name, detail]) => ({ name, detail })), malformed: false }
    } catch {
      return { events: [], malformed: true }
    }
  }
  const names = text.split(',').map((s) => s.trim())
  if (names.some((n) => !n || /\s/.test(n) || n.includes('"'))) return { events: [], malformed: true }
  return { events: names.map((name) => ({ name, detail: null })), malformed: false }
}

/**
 * The events of every trigger header of a response. Only response headers count:
 * `HX-Trigger` on a request is the id of the element that sent it.
 */
export function eventsOf(headers: Record<string, string | string[] | undefined>, onMalformed?: (header: string, value: string) => void): HxEvent[] {
  const out: HxEvent[] = []
  for (const h of TRIGGER_HEADERS) {
    const raw = headers[h]
    const value = Array.isArray(raw) ? raw.join(', ') : raw
    if (!value) continue
    const parsed = parseTrigger(value)
    if (parsed.malformed) onMalformed?.(h, value)
    out.push(...parsed.events)
  }
  return out
}
