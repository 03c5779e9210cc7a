import { randomUUID } from 'node:crypto'
import type { Context } from 'hono'
import { html } from 'hono/html'
import { getCookie, setCookie } from 'hono/cookie'
import { ACTOR_COOKIE, createService } from '@dx/kit'
import { announcement, SUBSCRIBES } from './announce.js'
import type { Hub } from './hub.js'
import { nickError, roomError } from './rules.js'
import { joinWidget, roomWidget, type JoinForm } from './views.js'

const NICK_COOKIE = 'dx_chat_nick'
/**
 * Who this browser is for the events it causes in any service: the gateway and the kit
 * put it in the envelope's `actor`. HttpOnly: no script needs it. Cookies are per host,
 * not per port, so the standalone pages on other ports of the same host send it too.
 */
const YEAR = 365 * 24 * 3600

export type ChatOptions = {
  /** Where other services' events are told (`CHAT_EVENTS_ROOM`); a valid room name. */
  eventsRoom?: string
}

/** The chat service's HTTP side: standalone page, widget, joining a room. Messages go over `/chat/ws`. */
export function chatService(hub: Pick<Hub, 'rooms' | 'isTaken' | 'system'>, opts: ChatOptions = {}) {
  const eventsRoom = opts.eventsRoom ?? 'lobby'
  const bad = roomError(eventsRoom)
  if (bad) throw new Error(`CHAT_EVENTS_ROOM "${eventsRoom.slice(0, 40)}": ${bad}`)
  const svc = createService({
    name: 'chat',
    title: 'Chat',
    subscribes: SUBSCRIBES,
    // "ana added a todo: buy milk" in the events room. A failure to hand it to the bus
    // rejects: the kit answers 500 and the gateway delivers the event again.
    onEvent: async (e) => {
      const text = announcement(e)
      if (text === null) return
      await hub.system(eventsRoom, { id: e.id, text, time: new Date(e.time).toISOString() })
    },
  })
  const { app } = svc

  // A returning user finds their nickname filled in; it is only a suggestion, checked on join.
  const remembered = (c: Context): JoinForm => {
    const nick = c.req.query('nick') ?? getCookie(c, NICK_COOKIE)
    const room = c.req.query('room')
    return { nick: nickError(nick) ? undefined : nick, room: roomError(room) ? undefined : room }
  }

  // The standalone page keeps its widget to a readable width (48rem), not the frame's 72rem.
  app.get('/', (c) => c.html(svc.page(html`<div class="dx-standalone mx-auto max-w-3xl">${joinWidget(hub.rooms(), remembered(c))}</div>`)))
  // The nickname comes from the cookie: a cache (the gateway's last good copy) keeps one per cookie.
  app.get('/chat', (c) => {
    c.header('Vary', 'Cookie')
    return c.html(joinWidget(hub.rooms(), remembered(c)))
  })
  app.get('/chat/rooms', (c) => c.json(hub.rooms()))

  app.post('/chat/join', async (c) => {
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    const nick = typeof body.nick === 'string' ? body.nick.trim() : ''
    const room = typeof body.room === 'string' ? body.room.trim() : ''
    const form = { nick: nick.slice(0, 100), room: room.slice(0, 100) }
    const error = nickError(nick) ?? roomError(room) ?? (hub.isTaken(room, nick) ? `That nickname is taken here: someone is already ${nick} in #${room}.` : null)
    if (error) return c.html(joinWidget(hub.rooms(), { ...form, error }), 422)
    setCookie(c, NICK_COOKIE, nick, { path: '/', sameSite: 'Lax', maxAge: YEAR })
    setCookie(c, ACTOR_COOKIE, nick, { path: '/', sameSite: 'Lax', httpOnly: true, maxAge: YEAR })
    return c.html(roomWidget({ room, nick, sid: randomUUID(), rooms: hub.rooms() }))
  })

  return svc
}
