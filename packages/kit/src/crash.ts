import type { Logger } from './log.js'

let installed = false

/**
 * After an uncaught exception the process is in an unknown state: it logs what happened,
 * with the stack, and exits 1 so that its supervisor starts a clean one, rather than
 * limping on with, say, a half-applied write or a leaked lock.
 */
export function exitOnCrash(log: Logger) {
  if (installed) return
  installed = true
  const crash = (what: string) => (err: unknown) => {
    log.error(`${what}; exiting so that a supervisor restarts the service\n${describe(err)}`)
    process.exit(1)
  }
  process.on('uncaughtException', crash('uncaught exception'))
  process.on('unhandledRejection', crash('unhandled promise rejection'))
}

const describe = (err: unknown) => (err instanceof Error ? (err.stack ?? String(err)) : String(err))
