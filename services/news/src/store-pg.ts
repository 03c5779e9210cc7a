import type { Logger } from '@dx/kit'
import { openMigrated, transaction } from '@dx/kit/pg'
import type { Favorite, Store } from './store.js'

/** Append only: a released step is never edited (see migrate in @dx/kit/pg). */
const MIGRATIONS = [
  // seq keeps the order of favourites added in the same instant, as SQLite's rowid does.
  `create table favorites (
    id bigint primary key,
    title text not null,
    url text,
    "by" text,
    created_at timestamptz not null default clock_timestamp(),
    seq bigint generated always as identity
  )`,
]

type Row = { id: string; title: string; url: string | null; by: string | null; created_at: Date }
const toFavorite = (r: Row): Favorite => ({
  id: Number(r.id),
  title: r.title,
  url: r.url ?? undefined,
  by: r.by ?? undefined,
  createdAt: r.created_at.toISOString(),
})

/**
 * Favourites in PostgreSQL, shared by every replica. A write resolves only after its
 * COMMIT returned, with synchronous_commit on, so an acknowledged favourite survives a
 * crash of the server too.
 */
export async function openPgStore(opts: { url: string; schema?: string; log: Logger; startMs?: number }): Promise<Store> {
  const pool = await openMigrated({ ...opts, name: 'dx-news', owner: 'news', migrations: MIGRATIONS })
  const cols = 'id, title, url, "by", created_at'
  let closed: Promise<void> | undefined
  const write = (sql: string, params: unknown[]) =>
    transaction(pool, 'full', async (client) => {
      const r = (await client.query<Row>(sql, params)).rows[0]
      return r && toFavorite(r)
    })
  return {
    list: async () => (await pool.query<Row>(`select ${cols} from favorites order by created_at desc, seq desc`)).rows.map(toFavorite),
    ids: async () => new Set((await pool.query<{ id: string }>('select id from favorites')).rows.map((r) => Number(r.id))),
    has: async (id) => ((await pool.query('select 1 from favorites where id = $1', [id])).rowCount ?? 0) > 0,
    add: async (s) =>
      (await write(
        `insert into favorites (id, title, url, "by") values ($1, $2, $3, $4)
         on conflict (id) do update set title = excluded.title, url = excluded.url, "by" = excluded."by"
         returning ${cols}`,
        [s.id, s.title, s.url ?? null, s.by ?? null],
      ))!,
    remove: (id) => write(`delete from favorites where id = $1 returning ${cols}`, [id]),
    close: () => (closed ??= pool.end()),
  }
}
