import type { Logger } from '@dx/kit'
import { openMigrated, transaction } from '@dx/kit/pg'
import { HISTORY_SIZE, type History, type Message } from './history.js'

/** Append only: a released step is never edited (see migrate in @dx/kit/pg). */
const MIGRATIONS = [
  `create table messages (
    seq bigint generated always as identity primary key,
    id text not null unique,
    room text not null,
    nick text not null,
    text text not null,
    time text not null
  );
  create index messages_room on messages (room, seq)`,
]

// Writes waiting their turn at most; past that a message is still shown, only not kept.
const MAX_WAITING = 1000

/**
 * The history in PostgreSQL, shared by every chat replica: each replica gets every
 * message off the bus and stores it; the first insert of an id wins, the others change
 * nothing. This replica's writes go one after the other, in bus order, so `seq` keeps the
 * order in which the room saw them. Commits do not wait for the WAL flush (as SQLite's
 * NORMAL): a crash of the server may lose the last messages, never a todo.
 */
export async function openPgHistory(opts: { url: string; schema?: string; log: Logger; size?: number; startMs?: number }): Promise<History> {
  const size = opts.size ?? HISTORY_SIZE
  const pool = await openMigrated({ ...opts, name: 'dx-chat', owner: 'chat', migrations: MIGRATIONS })
  let tail: Promise<unknown> = Promise.resolve()
  let waiting = 0
  let closed: Promise<void> | undefined

  const insert = (m: Message) =>
    transaction(pool, 'relaxed', async (client) => {
      const r = await client.query('insert into messages (id, room, nick, text, time) values ($1, $2, $3, $4, $5) on conflict (id) do nothing', [
        m.id,
        m.room,
        m.nick,
        m.text,
        m.time,
      ])
      if (!r.rowCount) return false
      await client.query(
        `delete from messages where room = $1 and seq <= (
           select seq from messages where room = $1 order by seq desc limit 1 offset $2)`,
        [m.room, size],
      )
      return true
    })

  return {
    add(m) {
      if (waiting >= MAX_WAITING) return Promise.reject(new Error(`${MAX_WAITING} history writes are waiting already; this message is not kept`))
      waiting++
      const done = tail.then(() => insert(m)).finally(() => waiting--)
      tail = done.catch(() => {})
      return done
    },
    recent: async (room) => {
      const r = await pool.query<Message>('select id, room, nick, text, time from (select * from messages where room = $1 order by seq desc limit $2) last order by seq', [room, size])
      return r.rows
    },
    close: () => (closed ??= pool.end()),
  }
}
