import type { Context } from 'hono'
import type { Logger } from './log.js'

/**
 * Runs a database write. When the database refuses it (I/O error, disk full, locked,
 * server gone), the error is logged and the answer is a 503 saying what did not happen:
 * never a success and never an event for a write that is not stored. `outcome` is that
 * sentence, e.g. "The todo could not be saved; nothing was added". When the connection
 * failed during the commit itself (an error with `outcomeUnknown`), nobody knows whether
 * it was stored, and the answer says that instead.
 */
export async function tryWrite<T>(c: Context, log: Logger, outcome: string, run: () => T | Promise<T>): Promise<T | Response> {
  try {
    return await run()
  } catch (err) {
    if ((err as { outcomeUnknown?: unknown })?.outcomeUnknown === true) {
      log.error('write not confirmed: the connection failed during the commit, so it may or may not be stored', err)
      return c.text('The database did not confirm the write: it may or may not have been saved. Reload to see, then try again if needed.', 503)
    }
    log.error(`write failed: ${outcome}`, err)
    return c.text(`${outcome} (the database refused the write). Try again in a moment.`, 503)
  }
}
