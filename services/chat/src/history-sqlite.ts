import { openDatabase } from '@dx/kit/sqlite'
import { HISTORY_SIZE, type History, type Message } from './history.js'

type Row = Message & { seq: number }

/**
 * The history in a SQLite file, which replicas on one machine may share.
 * The calls are synchronous underneath; they return promises to share the History contract.
 */
export function openSqliteHistory(file: string, size = HISTORY_SIZE): History {
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
    add: async (m) => add(m),
    recent: async (room) =>
      q.recent
        .all(room, size)
        .reverse()
        .map(({ id, room, nick, text, time }) => ({ id, room, nick, text, time })),
    close: async () => void db.close(),
  }
}
