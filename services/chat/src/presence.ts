/**
 * Who is in which room on this process. A nickname is unique in a room regardless of case;
 * the same browser coming back (same session id) takes its place over, so a reconnect
 * that races the old socket's timeout is not refused as "taken".
 */
export class Presence<C> {
  private byRoom = new Map<string, Map<string, { nick: string; sid: string; conn: C }>>()

  join(room: string, nick: string, sid: string, conn: C): { ok: true; replaced?: C } | { ok: false } {
    let members = this.byRoom.get(room)
    if (!members) this.byRoom.set(room, (members = new Map()))
    const key = nick.toLowerCase()
    const old = members.get(key)
    if (old && old.sid !== sid) return { ok: false }
    members.set(key, { nick, sid, conn })
    return { ok: true, replaced: old?.conn }
  }

  /** true when `conn` was the member's current connection (and so has left). */
  leave(room: string, nick: string, conn: C): boolean {
    const members = this.byRoom.get(room)
    const key = nick.toLowerCase()
    if (members?.get(key)?.conn !== conn) return false
    members.delete(key)
    if (members.size === 0) this.byRoom.delete(room)
    return true
  }

  isTaken(room: string, nick: string): boolean {
    return this.byRoom.get(room)?.has(nick.toLowerCase()) ?? false
  }

  /** Nicknames in the room, sorted case-insensitively. */
  members(room: string): string[] {
    return [...(this.byRoom.get(room)?.values() ?? [])].map((m) => m.nick).sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))
  }

  connections(room: string): C[] {
    return [...(this.byRoom.get(room)?.values() ?? [])].map((m) => m.conn)
  }

  /** Every connection, in all rooms. */
  all(): C[] {
    return [...this.byRoom.values()].flatMap((members) => [...members.values()].map((m) => m.conn))
  }

  /** Rooms with members, busiest first. */
  rooms(): Array<{ room: string; count: number }> {
    return [...this.byRoom].map(([room, m]) => ({ room, count: m.size })).sort((a, b) => b.count - a.count || a.room.localeCompare(b.room))
  }
}

/** What a replica tells the others about its members, on `dx.chat.presence.<replica>`. */
export type Heartbeat = {
  replica: string
  /** Nicknames per room on that replica. */
  rooms: Record<string, string[]>
  /** The replica is stopping: its members no longer count. */
  bye?: boolean
}

// Bounds on what one heartbeat may carry, so that a bad one cannot fill this process.
const MAX_ROOMS = 1000
const MAX_MEMBERS = 10_000
const REPLICA = /^[A-Za-z0-9-]{1,64}$/

/** A heartbeat off the bus, checked: null when it is not one (names as rooms and nicknames are checked when typed). */
export function asHeartbeat(v: unknown, nameOk: (s: string) => boolean): Heartbeat | null {
  if (!v || typeof v !== 'object') return null
  const h = v as Record<string, unknown>
  if (typeof h.replica !== 'string' || !REPLICA.test(h.replica)) return null
  if (!h.rooms || typeof h.rooms !== 'object' || Array.isArray(h.rooms)) return null
  const entries = Object.entries(h.rooms as Record<string, unknown>)
  if (entries.length > MAX_ROOMS) return null
  let total = 0
  for (const [room, nicks] of entries) {
    if (!nameOk(room) || !Array.isArray(nicks)) return null
    total += nicks.length
    if (total > MAX_MEMBERS || !nicks.every((n) => typeof n === 'string' && nameOk(n))) return null
  }
  return { replica: h.replica, rooms: h.rooms as Record<string, string[]>, bye: h.bye === true }
}

/**
 * Who is in which room on the other replicas, from their heartbeats. A replica not heard
 * from for `ttlMs` stops counting when `expire()` runs (the hub runs it every heartbeat
 * interval: dead replicas are gone within ttl + one interval); one that says goodbye at once.
 */
export class RemotePresence {
  private replicas = new Map<string, { seen: number; rooms: Map<string, string[]> }>()

  constructor(
    private ttlMs = 15_000,
    private now: () => number = Date.now,
  ) {}

  /** Takes a heartbeat in; returns the rooms whose members changed, and whether the replica is new. */
  apply(h: Heartbeat): { changed: Set<string>; isNew: boolean } {
    const before = this.replicas.get(h.replica)
    const changed = new Set<string>()
    if (h.bye) {
      if (before) for (const room of before.rooms.keys()) changed.add(room)
      this.replicas.delete(h.replica)
      return { changed, isNew: false }
    }
    const rooms = new Map(Object.entries(h.rooms).filter(([, nicks]) => nicks.length > 0))
    for (const room of new Set([...rooms.keys(), ...(before?.rooms.keys() ?? [])])) {
      if ((rooms.get(room) ?? []).join('\n') !== (before?.rooms.get(room) ?? []).join('\n')) changed.add(room)
    }
    this.replicas.set(h.replica, { seen: this.now(), rooms })
    return { changed, isNew: !before }
  }

  /** Forgets replicas silent for longer than the ttl; returns the rooms whose members changed. */
  expire(): Set<string> {
    const changed = new Set<string>()
    const cutoff = this.now() - this.ttlMs
    for (const [id, r] of this.replicas) {
      if (r.seen >= cutoff) continue
      for (const room of r.rooms.keys()) changed.add(room)
      this.replicas.delete(id)
    }
    return changed
  }

  /** Nicknames in the room on every other replica (each nickname once, regardless of case). */
  members(room: string): string[] {
    const out = new Map<string, string>()
    for (const r of this.replicas.values()) for (const nick of r.rooms.get(room) ?? []) out.set(nick.toLowerCase(), nick)
    return [...out.values()]
  }

  roomNames(): Set<string> {
    const out = new Set<string>()
    for (const r of this.replicas.values()) for (const room of r.rooms.keys()) out.add(room)
    return out
  }

  has(room: string, nick: string): boolean {
    const key = nick.toLowerCase()
    for (const r of this.replicas.values()) if (r.rooms.get(room)?.some((n) => n.toLowerCase() === key)) return true
    return false
  }

  replicaCount(): number {
    return this.replicas.size
  }
}

/** Local and remote members together: each nickname once, sorted case-insensitively. */
export function mergeMembers(local: string[], remote: string[]): string[] {
  const out = new Map<string, string>()
  for (const nick of [...remote, ...local]) out.set(nick.toLowerCase(), nick)
  return [...out.values()].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))
}
