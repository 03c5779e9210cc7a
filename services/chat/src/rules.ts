import { stripBidi } from '@dx/kit'

/** What a chat user may send and be called. Each check returns a message for the user or null. */

export const NAME_CHARS = /^[A-Za-z0-9_.-]+$/
export const MAX_NICK = 24
export const MAX_ROOM = 32
export const MAX_TEXT = 1000
/** Larger frames are not chat messages: the socket is closed with 1008. */
export const MAX_FRAME_BYTES = 16 * 1024

function nameError(what: string, value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.length === 0) return `Pick a ${what}.`
  if (value.length > max) return `The ${what} is too long: ${value.length} characters, at most ${max}.`
  if (!NAME_CHARS.test(value)) return `A ${what} may only use letters, digits, "_", "-" and ".".`
  return null
}

export const nickError = (nick: unknown) => nameError('nickname', nick, MAX_NICK)
export const roomError = (room: unknown) => nameError('room name', room, MAX_ROOM)

/** A message trimmed and without bidi controls, which would reorder the room's page for everyone. */
export function checkText(raw: unknown): { ok: true; text: string } | { ok: false; error: string } {
  const text = typeof raw === 'string' ? stripBidi(raw).trim() : ''
  if (text.length === 0) return { ok: false, error: 'Write a message first.' }
  const length = [...text].length
  if (length > MAX_TEXT) return { ok: false, error: `Message too long: ${length} characters, at most ${MAX_TEXT}.` }
  return { ok: true, text }
}

/**
 * A frame from htmx-ext-ws's `ws-send`: the form's values as JSON, plus the htmx HEADERS.
 * Anything else is a broken or hostile client: the caller closes the socket with 1008.
 */
export function parseFrame(data: Buffer, isBinary: boolean): { ok: true; text: unknown } | { ok: false; reason: string } {
  if (isBinary) return { ok: false, reason: 'binary frames are not accepted' }
  if (data.length > MAX_FRAME_BYTES) return { ok: false, reason: `frame of ${data.length} bytes, at most ${MAX_FRAME_BYTES}` }
  let value: unknown
  try {
    value = JSON.parse(data.toString('utf8'))
  } catch {
    return { ok: false, reason: 'frame is not JSON' }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'frame is not a JSON object' }
  const text = (value as Record<string, unknown>).text
  if (typeof text !== 'string') return { ok: false, reason: 'frame has no "text" string' }
  return { ok: true, text }
}
