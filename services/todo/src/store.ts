import { logger, stripBidi, type StoreOptions } from '@dx/kit'
import { openSqliteStore } from './store-sqlite.js'

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

/**
 * Where todos live, SQLite or PostgreSQL: the same contract for both
 * (test/store-contract.test.ts). A write resolves only once it is stored and rejects
 * when it is not; then nothing changed.
 */
export interface Store {
  /** Oldest first. */
  list(): Promise<Todo[]>
  get(id: number): Promise<Todo | undefined>
  add(text: string): Promise<Todo>
  /** undefined when there is no such todo. */
  setDone(id: number, done: boolean): Promise<Todo | undefined>
  remove(id: number): Promise<Todo | undefined>
  close(): Promise<void>
}

export type { StoreOptions }

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (!opts.databaseUrl) return openSqliteStore(opts.file)
  // Loaded only when asked for, so a SQLite setup never loads pg.
  const { openPgStore } = await import('./store-pg.js')
  return openPgStore({ url: opts.databaseUrl, schema: opts.schema, log: opts.log ?? logger('todo'), startMs: opts.startMs })
}
