import { openDatabase } from '@dx/kit/sqlite'

export type Todo = { id: number; text: string; done: boolean; createdAt: string }

export const MAX_TEXT = 500

/** Trims and checks a todo text; returns the clean text or a message for the user. */
export function validateText(raw: unknown): { ok: true; text: string } | { ok: false; error: string } {
  const text = typeof raw === 'string' ? raw.trim() : ''
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
  return {
    list: (): Todo[] => q.list.all().map(toTodo),
    get: (id: number): Todo | undefined => {
      const r = q.get.get(id)
      return r && toTodo(r)
    },
    add: (text: string): Todo => toTodo(q.add.get(text)!),
    setDone: (id: number, done: boolean): Todo | undefined => {
      const r = q.setDone.get(done ? 1 : 0, id)
      return r && toTodo(r)
    },
    remove: (id: number): Todo | undefined => {
      const r = q.remove.get(id)
      return r && toTodo(r)
    },
    close: () => db.close(),
  }
}
export type Store = ReturnType<typeof openStore>
