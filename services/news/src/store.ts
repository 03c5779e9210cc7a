import { logger, type StoreOptions } from '@dx/kit'
import type { Story } from './hn.js'
import { openSqliteStore } from './store-sqlite.js'

/** What the favourites list shows, kept so it renders with the API down. */
export type Favorite = { id: number; title: string; url?: string; by?: string; createdAt: string }

export type StoryRef = Pick<Story, 'id' | 'title' | 'url' | 'by'>

/**
 * Where favourites live, SQLite or PostgreSQL: the same contract for both
 * (test/store-contract.test.ts). A write resolves only once it is stored and rejects
 * when it is not; then nothing changed.
 */
export interface Store {
  /** Newest first; a repeated favourite keeps its place. */
  list(): Promise<Favorite[]>
  ids(): Promise<Set<number>>
  has(id: number): Promise<boolean>
  /** A repeated favourite keeps its place in the list and takes the newer title. */
  add(s: StoryRef): Promise<Favorite>
  /** undefined when it was not a favourite. */
  remove(id: number): Promise<Favorite | undefined>
  close(): Promise<void>
}

export type { StoreOptions }

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (!opts.databaseUrl) return openSqliteStore(opts.file)
  // Loaded only when asked for, so a SQLite setup never loads pg.
  const { openPgStore } = await import('./store-pg.js')
  return openPgStore({ url: opts.databaseUrl, schema: opts.schema, log: opts.log ?? logger('news'), startMs: opts.startMs })
}
