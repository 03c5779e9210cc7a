import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Bus } from '@dx/bus'
import { SeenIds, type Logger } from '@dx/kit'
import { WebSocket } from 'ws'
import { ALL_PRESENCE, ALL_ROOMS, asChatEvent, presenceSubject, roomSubject, type ChatEvent } from './events.js'
import { HISTORY_SIZE, type History, type Message } from './history.js'
import { asHeartbeat, mergeMembers, Presence, RemotePresence, type Heartbeat } from './presence.js'
import { RateLimiter } from './rate.js'
import { checkText, NAME_CHARS, nickError, parseFrame, roomError } from './rules.js'
import { queryOf } from './target.js'
import * as views from './views.js'

export type HubOptions = {
  bus: Bus
  history: History
  log: Logger
  /** Messages allowed per connection in `rateWindowMs`. */
  rateMax?: number
  rateWindowMs?: number
  /** A socket that misses one ping interval's pong is dropped. */
  pingMs?: number
  /** How often this replica tells the others its members (default 5 s); one silent for 3 intervals stops counting. */
  presenceMs?: number
  /** This replica's id on the bus; default a random one. */
  replicaId?: string
}

/** `held`: while the history of a joining socket is read, what it gets meanwhile waits here (message id, frame). */
type Conn = { ws: WebSocket; room: string; nick: string; limiter: RateLimiter; alive: boolean; held?: [string | undefined, string][] }

// A socket this far behind is a client that cannot keep up; 1013 tells htmx-ext-ws to come back later.
const MAX_BUFFERED = 4 * 1024 * 1024
const SID = /^[A-Za-z0-9-]{8,64}$/

/**
 * The rooms of this process: sockets in, bus out, bus in, sockets out. Every message
 * goes through the bus, even to sockets on this process, so that replicas sharing a bus
 * see the same rooms.
 */
export function createHub(opts: HubOptions) {
  const { bus, history, log, rateMax = 20, rateWindowMs = 10_000 } = opts
  const presence = new Presence<Conn>()
  const presenceMs = opts.presenceMs ?? 5000
  const replica = opts.replicaId ?? randomUUID()
  const remote = new RemotePresence(3 * presenceMs)
  const seen = new SeenIds()
  let stopping = false
  const pendingMembers = new Set<string>()
  let pendingRooms = false

  const send = (c: Conn, frame: string, messageId?: string) => {
    if (c.held) return void c.held.push([messageId, frame])
    if (c.ws.readyState !== WebSocket.OPEN) return
    if (c.ws.bufferedAmount > MAX_BUFFERED) {
      log.warn(`${c.nick} in #${c.room} is too far behind; closing with 1013`)
      c.ws.close(1013, 'too far behind')
      return
    }
    c.ws.send(frame)
  }
  const toRoom = (room: string, frame: string, messageId?: string) => {
    for (const c of presence.connections(room)) send(c, frame, messageId)
  }

  // Member and room lists change in bursts (a page of reconnects after a restart): one
  // update per burst rather than one per join.
  function membersChanged(room: string) {
    if (pendingMembers.size === 0) setTimeout(flushMembers, 100)
    pendingMembers.add(room)
  }
  function flushMembers() {
    for (const room of pendingMembers) toRoom(room, String(views.membersFrame(members(room))))
    pendingMembers.clear()
  }
  function roomsChanged() {
    if (pendingRooms) return
    pendingRooms = true
    setTimeout(() => {
      pendingRooms = false
      const list = rooms()
      for (const c of presence.all()) send(c, String(views.roomsFrame(list, c.nick, c.room)))
    }, 500)
  }

  // --- Members across replicas: this one's own, plus those of the others' heartbeats.
  const members = (room: string) => mergeMembers(presence.members(room), remote.members(room))
  function rooms(): Array<{ room: string; count: number }> {
    const names = new Set([...presence.rooms().map((r) => r.room), ...remote.roomNames()])
    return [...names].map((room) => ({ room, count: members(room).length })).sort((a, b) => b.count - a.count || a.room.localeCompare(b.room))
  }
  function presenceNote(bye = false): Heartbeat {
    const byRoom: Record<string, string[]> = {}
    if (!bye) for (const { room } of presence.rooms()) byRoom[room] = presence.members(room)
    return { replica, rooms: byRoom, bye }
  }
  const tell = (bye = false) => bus.publish(presenceSubject(replica), presenceNote(bye)).catch((err) => log.warn('could not send the presence heartbeat', err))
  // A change here is told soon (once per burst), not only at the next interval.
  let tellSoon: NodeJS.Timeout | undefined
  function presenceChanged() {
    tellSoon ??= setTimeout(() => {
      tellSoon = undefined
      if (!stopping) void tell()
    }, 100)
  }
  function othersChanged(changed: Set<string>) {
    for (const room of changed) if (presence.connections(room).length) membersChanged(room)
    if (changed.size) roomsChanged()
  }
  const unsubscribePresence = bus.subscribe(ALL_PRESENCE, (data) => {
    const h = asHeartbeat(data, (s) => NAME_CHARS.test(s) && s.length <= 32)
    if (!h) return log.warn('dropped a malformed presence heartbeat from the bus')
    if (h.replica === replica) return
    const { changed, isNew } = remote.apply(h)
    // A replica just started (or came back): it learns this one's members now, not in 5 s.
    if (isNew) presenceChanged()
    othersChanged(changed)
  })
  const presenceTimer = setInterval(() => {
    othersChanged(remote.expire())
    void tell()
  }, presenceMs)
  presenceTimer.unref()
  void tell()

  function deliver(data: unknown) {
    const e = asChatEvent(data)
    if (!e) return log.warn('dropped a malformed chat event from the bus')
    if (!seen.add(e.id)) return
    if (e.kind === 'message' || e.kind === 'system') {
      const m = { id: e.id, room: e.room, nick: e.kind === 'message' ? e.nick : '', text: e.text, time: e.time }
      keep(m)
      toRoom(e.room, String(views.messageFrame(m)), m.id)
    } else {
      toRoom(e.room, String(views.presenceFrame(e.nick, e.verb, e.time)))
    }
  }
  const unsubscribe = bus.subscribe(ALL_ROOMS, deliver)

  // Messages shown but maybe not in the history yet (PostgreSQL writes are async): a socket
  // that joins meanwhile gets them from here.
  const unsaved = new Map<string, Message>()
  function keep(m: Message) {
    unsaved.set(m.id, m)
    // A history that fails loses the message from the history only: it was shown live.
    Promise.resolve()
      .then(() => history.add(m))
      .catch((err) => log.warn(`a message in #${m.room} could not be kept in the history`, err))
      .finally(() => unsaved.delete(m.id))
  }

  /**
   * The joined frame: the room's history (plus messages still on their way into it), then
   * what arrived for the socket while the history was read, each message once.
   */
  async function sendJoined(c: Conn) {
    const pending = [...unsaved.values()].filter((m) => m.room === c.room)
    let stored: Message[] = []
    let failed = false
    try {
      stored = await history.recent(c.room)
    } catch (err) {
      log.warn(`the history of #${c.room} could not be read`, err)
      failed = true
    }
    const storedIds = new Set(stored.map((m) => m.id))
    const shown = [...stored, ...pending.filter((m) => !storedIds.has(m.id))].slice(-HISTORY_SIZE)
    const shownIds = new Set(shown.map((m) => m.id))
    const held = c.held ?? []
    c.held = undefined
    send(c, String(views.joinedFrame(c.room, shown, members(c.room))))
    if (failed) send(c, String(views.notice('The earlier messages of this room could not be loaded; new ones appear as they come.')))
    for (const [id, frame] of held) if (id === undefined || !shownIds.has(id)) send(c, frame)
  }

  const publish = (e: ChatEvent) => bus.publish(roomSubject(e.room), e).catch((err) => log.error('bus publish failed', err))
  const announce = (c: Conn, verb: 'joined' | 'left') =>
    publish({ kind: 'presence', id: randomUUID(), room: c.room, nick: c.nick, verb, time: new Date().toISOString() })

  /** Refuses a socket with a message the page shows, then a close code that stops reconnecting. */
  function refuse(ws: WebSocket, message: string, reason: string) {
    ws.send(String(views.notice(message)))
    ws.close(1008, reason)
  }

  /** The reason goes to the notice line and what was typed back into the input. */
  const refused = (c: Conn, reason: string, typed: string) => send(c, String(views.notice(reason)) + String(views.messageForm(typed, true)))

  function onMessage(c: Conn, data: Buffer, isBinary: boolean) {
    const frame = parseFrame(data, isBinary)
    if (!frame.ok) {
      log.warn(`closing ${c.nick}'s socket in #${c.room} with 1008: ${frame.reason}`)
      return c.ws.close(1008, frame.reason.slice(0, 120))
    }
    const checked = checkText(frame.text)
    const typed = String(frame.text)
    if (!checked.ok) return refused(c, checked.error, typed)
    if (!c.limiter.allow()) return refused(c, `Slow down: at most ${rateMax} messages in ${rateWindowMs / 1000} seconds. This one was not sent.`, typed)
    void publish({ kind: 'message', id: randomUUID(), room: c.room, nick: c.nick, text: checked.text, time: new Date().toISOString() })
  }

  function connect(ws: WebSocket, req: IncomingMessage) {
    const q = queryOf(req.url)
    const room = q.get('room')
    const nick = q.get('nick')
    const sid = q.get('sid') ?? ''
    const bad = nickError(nick) ?? roomError(room) ?? (SID.test(sid) ? null : 'The session id is missing; reload the page.')
    ws.on('error', (e) => log.warn('socket error', e))
    if (bad) return refuse(ws, bad, 'bad nickname, room or session')

    const c: Conn = { ws, room: room!, nick: nick!, limiter: new RateLimiter(rateMax, rateWindowMs), alive: true }
    const joined = presence.join(c.room, c.nick, sid, c)
    if (!joined.ok) return refuse(ws, `That nickname is taken here: ${c.nick} is already in #${c.room}.`, 'nickname taken')
    joined.replaced?.ws.close(4000, 'replaced by a newer connection')
    c.held = []
    void sendJoined(c)
    if (!joined.replaced) void announce(c, 'joined')
    membersChanged(c.room)
    roomsChanged()
    presenceChanged()

    ws.on('pong', () => (c.alive = true))
    ws.on('message', (data, isBinary) => onMessage(c, data as Buffer, isBinary))
    ws.on('close', () => {
      if (!presence.leave(c.room, c.nick, c)) return
      // A replica that stops has said goodbye: its members are moving, not leaving.
      if (stopping) return
      void announce(c, 'left')
      membersChanged(c.room)
      roomsChanged()
      presenceChanged()
    })
  }

  // Browsers answer pings on their own; a connection that did not since the last one is gone.
  const heartbeat = setInterval(() => {
    for (const c of presence.all()) {
      if (!c.alive) {
        log.info(`${c.nick} in #${c.room} missed a heartbeat; dropping`)
        c.ws.terminate()
        continue
      }
      c.alive = false
      c.ws.ping()
    }
  }, opts.pingMs ?? 10_000)
  heartbeat.unref()

  /**
   * A system message in a room, through the bus like every message so that every
   * replica's sockets get it. The id is the caller's (an event's id): a second delivery of
   * the same event is the same message, which history and replicas store and show once.
   * Resolves once the bus took it; a failure rejects, so the event is delivered again.
   */
  async function system(room: string, m: { id: string; text: string; time: string }) {
    await bus.publish(roomSubject(room), { kind: 'system', id: m.id, room, text: m.text, time: m.time } satisfies ChatEvent)
  }

  /**
   * Tells the other replicas this one's members are gone, then closes every socket with
   * 1012 (service restart): htmx-ext-ws reconnects on it, to a replica that still runs.
   * Resolves once the goodbye is on the bus.
   */
  let stopped: Promise<void> | undefined
  function shutdown(): Promise<void> {
    if (stopped) return stopped
    stopping = true
    clearInterval(heartbeat)
    clearInterval(presenceTimer)
    clearTimeout(tellSoon)
    unsubscribe()
    unsubscribePresence()
    stopped = tell(true)
    for (const c of presence.all()) c.ws.close(1012, 'service restart')
    return stopped
  }

  return { connect, shutdown, system, rooms, members, replica, isTaken: (room: string, nick: string) => presence.isTaken(room, nick) || remote.has(room, nick) }
}
export type Hub = ReturnType<typeof createHub>
