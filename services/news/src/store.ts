import { openDatabase } from '@dx/kit/sqlite'
import type { Story } from './hn.js'

/** What the favourites list shows, kept so it renders with the API down. */
export type Favorite = { id: number; title: string; url?: string; by?: string; createdAt: string }

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
 */
export function openStore(file: string) {
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
    // A repeated favourite keeps its place in the list and takes the newer title.
    add: db.prepare<[number, string, string | null, string | null], Row>(
      `insert into favorites (id, title, url, by) values (?, ?, ?, ?)
       on conflict (id) do update set title = excluded.title, url = excluded.url, by = excluded.by
       returning *`,
    ),
    remove: db.prepare<[number], Row>('delete from favorites where id = ? returning *'),
  }
  return {
    list: (): Favorite[] => q.list.all().map(toFavorite),
    ids: (): Set<number> => new Set(q.ids.all().map((r) => r.id)),
    has: (id: number): boolean => q.get.get(id) !== undefined,
    add: (s: Pick<Story, 'id' | 'title' | 'url' | 'by'>): Favorite => toFavorite(q.add.get(s.id, s.title, s.url ?? null, s.by ?? null)!),
    remove: (id: number): Favorite | undefined => {
      const r = q.remove.get(id)
      return r && toFavorite(r)
    },
    close: () => db.close(),
  }
}
export type Store = ReturnType<typeof openStore>
