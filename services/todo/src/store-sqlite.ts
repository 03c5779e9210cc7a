import { openDatabase } from '@dx/kit/sqlite'
import type { Store, Todo } from './store.js'

type Row = { id: number; text: string; done: number; created_at: string }
const toTodo = (r: Row): Todo => ({ id: r.id, text: r.text, done: r.done === 1, createdAt: r.created_at })

/**
 * Todos in SQLite. WAL with synchronous=FULL: a write is on disk before it is
 * acknowledged, so it survives a kill -9 of the process (and a power cut).
 *
 * Every write runs to its end inside a transaction, so a commit that fails (disk full, I/O
 * error) throws. `.get()` on `INSERT … RETURNING` would not: it hands back the row after the
 * first step and drops the error of the commit that follows, and the id is handed out again.
 * The calls are synchronous underneath; they return promises to share the Store contract.
 */
export function openSqliteStore(file: string): Store {
  const db = openDatabase(file)
  db.exec(`create table if not exists todos (
    id integer primary key autoincrement,
    text text not null,
    done integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  )`)
  const q = {
    list: db.prepare<[], Row>('select * from todos order by id'),
    get: db.prepare<[number], Row>('select * from todos where id = ?'),
    add: db.prepare<[string], Row>('insert into todos (text) values (?) returning *'),
    setDone: db.prepare<[number, number], Row>('update todos set done = ? where id = ? returning *'),
    remove: db.prepare<[number], Row>('delete from todos where id = ? returning *'),
  }
  // At most one row: the statements change one id.
  const write = <A extends unknown[]>(stmt: { all: (...args: A) => Row[] }) =>
    db.transaction((...args: A): Todo | undefined => {
      const r = stmt.all(...args)[0]
      return r && toTodo(r)
    })
  const add = write(q.add)
  const setDone = write(q.setDone)
  const remove = write(q.remove)
  return {
    list: async () => q.list.all().map(toTodo),
    get: async (id) => {
      const r = q.get.get(id)
      return r && toTodo(r)
    },
    add: async (text) => add(text)!,
    setDone: async (id, done) => setDone(done ? 1 : 0, id),
    remove: async (id) => remove(id),
    close: async () => void db.close(),
  }
}
