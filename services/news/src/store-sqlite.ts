import { openDatabase } from '@dx/kit/sqlite'
import type { Favorite, Store, StoryRef } from './store.js'

type Row = { id: number; title: string; url: string | null; by: string | null; created_at: string }
const toFavorite = (r: Row): Favorite => ({
  id: r.id,
  title: r.title,
  url: r.url ?? undefined,
  by: r.by ?? undefined,
  createdAt: r.created_at,
})

/**
 * Favourites in SQLite. WAL with synchronous=FULL: a favourite is on disk before it is
 * acknowledged, so it survives a kill -9 of the process.
 *
 * Every write runs to its end inside a transaction, so a commit that fails (disk full, I/O
 * error) throws. `.get()` on `… RETURNING` would not: it hands back the row after the
 * first step and drops the error of the commit that follows.
 * The calls are synchronous underneath; they return promises to share the Store contract.
 */
export function openSqliteStore(file: string): Store {
  const db = openDatabase(file)
  db.exec(`create table if not exists favorites (
    id integer primary key,
    title text not null,
    url text,
    by text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  )`)
  const q = {
    list: db.prepare<[], Row>('select * from favorites order by created_at desc, rowid desc'),
    ids: db.prepare<[], { id: number }>('select id from favorites'),
    get: db.prepare<[number], Row>('select * from favorites where id = ?'),
    add: db.prepare<[number, string, string | null, string | null], Row>(
      `insert into favorites (id, title, url, by) values (?, ?, ?, ?)
       on conflict (id) do update set title = excluded.title, url = excluded.url, by = excluded.by
       returning *`,
    ),
    remove: db.prepare<[number], Row>('delete from favorites where id = ? returning *'),
  }
  const add = db.transaction((s: StoryRef) => toFavorite(q.add.all(s.id, s.title, s.url ?? null, s.by ?? null)[0]!))
  const remove = db.transaction((id: number) => {
    const r = q.remove.all(id)[0]
    return r && toFavorite(r)
  })
  return {
    list: async () => q.list.all().map(toFavorite),
    ids: async () => new Set(q.ids.all().map((r) => r.id)),
    has: async (id) => q.get.get(id) !== undefined,
    add: async (s) => add(s),
    remove: async (id) => remove(id),
    close: async () => void db.close(),
  }
}
