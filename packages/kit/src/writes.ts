import type { Context } from 'hono'
import type { Logger } from './log.js'

/**
 * Runs a database write. When the database refuses it (I/O error, disk full, locked), the
 * error is logged and the answer is a 503 saying what did not happen: never a success and
 * never an event for a write that is not stored. `outcome` is that sentence, e.g. "The
 * todo could not be saved; nothing was added".
 */
export function tryWrite<T>(c: Context, log: Logger, outcome: string, run: () => T): T | Response {
  try {
    return run()
  } catch (err) {
    log.error(`write failed: ${outcome}`, err)
    return c.text(`${outcome} (the database refused the write). Try again in a moment.`, 503)
  }
}
