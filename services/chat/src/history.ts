import { openDatabase } from '@dx/kit/sqlite'

/** A message of a room; `nick` is empty for a system message, which no one said (never a valid nickname). */
export type Message = { id: string; room: string; nick: string; text: string; time: string }

export const isSystem = (m: Message) => m.nick === ''

export const HISTORY_SIZE = 100

type Row = Message & { seq: number }

/**
 * The last messages of each room, in SQLite so that a restart of the chat does not empty
 * the rooms. Replicas may share the file: a message is stored once by its id, whichever
 * replica receives it first.
 */
export function openHistory(file: string, size = HISTORY_SIZE) {
  // NORMAL in WAL mode survives a crash of the process; chat does not need the fsync per message.
  const db = openDatabase(file, 'NORMAL')
  db.exec(`create table if not exists messages (
    seq integer primary key autoincrement,
    id text not null unique,
    room text not null,
    nick text not null,
    text text not null,
    time text not null
  );
  create index if not exists messages_room on messages (room, seq)`)
  const q = {
    add: db.prepare<Message>('insert or ignore into messages (id, room, nick, text, time) values (@id, @room, @nick, @text, @time)'),
    trim: db.prepare<[string, string, number]>(
      `delete from messages where room = ? and seq <= (
         select seq from messages where room = ? order by seq desc limit 1 offset ?)`,
    ),
    recent: db.prepare<[string, number], Row>('select * from messages where room = ? order by seq desc limit ?'),
  }
  const add = db.transaction((m: Message) => {
    const { changes } = q.add.run(m)
    if (changes) q.trim.run(m.room, m.room, size)
    return changes > 0
  })
  return {
    /** false when the id was already stored. */
    add: (m: Message): boolean => add(m),
    /** Oldest first. */
    recent: (room: string): Message[] =>
      q.recent
        .all(room, size)
        .reverse()
        .map(({ id, room, nick, text, time }) => ({ id, room, nick, text, time })),
    close: () => db.close(),
  }
}
export type History = ReturnType<typeof openHistory>
