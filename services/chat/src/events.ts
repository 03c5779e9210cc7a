import type { Message } from './history.js'
import { NAME_CHARS } from './rules.js'

/** What chat replicas tell each other over the bus, on subject `dx.chat.<room>`. */
export type ChatEvent =
  | ({ kind: 'message' } & Message)
  | { kind: 'presence'; id: string; room: string; nick: string; verb: 'joined' | 'left'; time: string }
  /** Said by no one: what happened elsewhere (another service's event), e.g. "ana added a todo: buy milk". */
  | { kind: 'system'; id: string; room: string; text: string; time: string }

// Room names may hold ".", the subject separator; "~" is not a room character, so the
// mapping cannot collide.
export const roomSubject = (room: string) => `dx.chat.${room.replaceAll('.', '~')}`
/** Every room: one token after `dx.chat`, so that presence heartbeats (two tokens) are not rooms. */
export const ALL_ROOMS = 'dx.chat.*'
/** Where a replica's heartbeats go: who is in which room on it. */
export const presenceSubject = (replica: string) => `dx.chat.presence.${replica}`
export const ALL_PRESENCE = 'dx.chat.presence.*'

const str = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max

/** Events come from other processes: check their shape before they reach a page. */
export function asChatEvent(v: unknown): ChatEvent | null {
  if (!v || typeof v !== 'object') return null
  const e = v as Record<string, unknown>
  // Ids of system messages are the ids of event envelopes: up to 200 characters.
  if (!str(e.id, 200) || !str(e.room, 32) || !str(e.time, 40) || !NAME_CHARS.test(e.room as string)) return null
  if (e.kind === 'system') return str(e.text, 4000) ? (e as ChatEvent) : null
  if (!str(e.nick, 24) || !NAME_CHARS.test(e.nick as string)) return null
  if (e.kind === 'message' && str(e.text, 4000)) return e as ChatEvent
  if (e.kind === 'presence' && (e.verb === 'joined' || e.verb === 'left')) return e as ChatEvent
  return null
}
