import { logger, type StoreOptions } from '@dx/kit'
import { openSqliteHistory } from './history-sqlite.js'

/** A message of a room; `nick` is empty for a system message, which no one said (never a valid nickname). */
export type Message = { id: string; room: string; nick: string; text: string; time: string }

export const isSystem = (m: Message) => m.nick === ''

export const HISTORY_SIZE = 100

/**
 * The last messages of each room, so that a restart of the chat does not empty the rooms,
 * in SQLite or PostgreSQL: the same contract for both (test/history-contract.test.ts).
 * Replicas may share it: a message is stored once by its id, whichever replica stores it
 * first, and with PostgreSQL a user joining on replica B sees what was said on A.
 */
export interface History {
  /** false when the id was already stored; rejects when it could not be stored. */
  add(m: Message): Promise<boolean>
  /** The last HISTORY_SIZE of the room, oldest first. */
  recent(room: string): Promise<Message[]>
  close(): Promise<void>
}

export type HistoryOptions = StoreOptions & { size?: number }

export async function openHistory(opts: HistoryOptions): Promise<History> {
  if (!opts.databaseUrl) return openSqliteHistory(opts.file, opts.size)
  // Loaded only when asked for, so a SQLite setup never loads pg.
  const { openPgHistory } = await import('./history-pg.js')
  return openPgHistory({ url: opts.databaseUrl, schema: opts.schema, log: opts.log ?? logger('chat'), size: opts.size, startMs: opts.startMs })
}
