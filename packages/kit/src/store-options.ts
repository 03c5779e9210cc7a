import type { Logger } from './log.js'

/** Where a service keeps its data: PostgreSQL when a URL is given (NAME_DATABASE_URL), else a SQLite file. */
export type StoreOptions = {
  databaseUrl?: string
  file: string
  /** PostgreSQL schema for the tables (tests); else the connection's search_path. */
  schema?: string
  log?: Logger
  /** How long to wait at start for a PostgreSQL server that is not up yet; default 20 s. */
  startMs?: number
}
