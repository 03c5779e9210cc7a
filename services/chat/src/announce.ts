import { stripBidi, type Envelope } from '@dx/kit'

/** The events of other services that chat tells a room about (its manifest lists them). */
export const SUBSCRIBES = ['todo:added', 'todo:removed', 'news:favorited']

/** The longest quoted part (a todo's text, a story's title); longer ones end in "…". */
export const MAX_QUOTED = 200

/** A string field of an event's detail, or undefined: the detail comes from another service. */
function field(detail: unknown, key: string): string | undefined {
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return undefined
  const v = (detail as Record<string, unknown>)[key]
  return typeof v === 'string' ? v : undefined
}

/** On one line, without bidi controls (which would reorder the room), cut to `MAX_QUOTED` characters. */
export function quoted(text: string): string {
  const clean = stripBidi(text)
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim()
  const chars = [...clean]
  return chars.length <= MAX_QUOTED ? clean : chars.slice(0, MAX_QUOTED - 1).join('').trimEnd() + '…'
}

const say = (who: string, what: string, subject: string | undefined) => {
  const q = subject === undefined ? '' : quoted(subject)
  return q ? `${who} ${what}: ${q}` : `${who} ${what}`
}

/**
 * The system message for an event, e.g. "ana added a todo: buy milk"; null for an event
 * chat has nothing to say about. The actor is a checked nickname (envelopeError); without
 * one it is "someone". The text is plain: the view escapes it like every message.
 */
export function announcement(e: Pick<Envelope, 'name' | 'detail' | 'actor'>): string | null {
  const who = e.actor ?? 'someone'
  switch (e.name) {
    case 'todo:added':
      return say(who, 'added a todo', field(e.detail, 'text'))
    case 'todo:removed':
      return say(who, 'removed a todo', field(e.detail, 'text'))
    case 'news:favorited':
      return say(who, 'favourited', field(e.detail, 'title'))
    default:
      return null
  }
}
