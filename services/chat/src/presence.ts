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
