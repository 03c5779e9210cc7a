import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

/**
 * A SQLite file in WAL mode, its folder created. `FULL` syncs every commit before it
 * returns, so an acknowledged write survives a crash of the machine; `NORMAL` survives a
 * crash of the process only, for data that can afford to lose its last writes.
 * A subpath export (`@dx/kit/sqlite`), so the gateway never loads the native binding.
 */
export function openDatabase(file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL') {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous}`)
  db.pragma('busy_timeout = 5000')
  return db
}
