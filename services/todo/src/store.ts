import { stripBidi } from '@dx/kit'
import { openDatabase } from '@dx/kit/sqlite'

export type Todo = { id: number; text: string; done: boolean; createdAt: string }

export const MAX_TEXT = 500

/** Trims and checks a todo text, bidi controls removed; returns the clean text or a message for the user. */
export function validateText(raw: unknown): { ok: true; text: string } | { ok: false; error: string } {
  const text = typeof raw === 'string' ? stripBidi(raw).trim() : ''
  if (text.length === 0) return { ok: false, error: 'Write something to do first.' }
  const length = [...text].length
  if (length > MAX_TEXT) return { ok: false, error: `Too long: ${length} characters, at most ${MAX_TEXT}.` }
  return { ok: true, text }
}

type Row = { id: number; text: string; done: number; created_at: string }
const toTodo = (r: Row): Todo => ({ id: r.id, text: r.text, done: r.done === 1, createdAt: r.created_at })

/**
 * Todos in SQLite. WAL with synchronous=FULL: a write is on disk before it is
 * acknowledged, so it survives a kill -9 of the process (and a power cut).
 *
 * Every write runs to its end inside a transaction, so a commit that fails (disk full, I/O
 * error) throws. `.get()` on `INSERT … RETURNING` would not: it hands back the row after the
 * first step and drops the error of the commit that follows, and the id is handed out again.
 */
export function openStore(file: string) {
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
    list: (): Todo[] => q.list.all().map(toTodo),
    get: (id: number): Todo | undefined => {
      const r = q.get.get(id)
      return r && toTodo(r)
    },
    /** Throws when the database refuses the write; then nothing was stored. */
    add: (text: string): Todo => add(text)!,
    setDone: (id: number, done: boolean): Todo | undefined => setDone(done ? 1 : 0, id),
    remove: (id: number): Todo | undefined => remove(id),
    close: () => db.close(),
  }
}
export type Store = ReturnType<typeof openStore>
