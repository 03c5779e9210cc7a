/** One line per event, prefixed with the process name, so interleaved logs stay readable. */
export function logger(name: string) {
  const line = (level: string, msg: string, extra?: unknown) => {
    const tail = extra === undefined ? '' : ' ' + (extra instanceof Error ? extra.message : JSON.stringify(extra))
    const out = `${new Date().toISOString()} ${level} [${name}] ${msg}${tail}`
    if (level === 'ERROR' || level === 'WARN') console.error(out)
    else console.log(out)
  }
  return {
    info: (msg: string, extra?: unknown) => line('INFO', msg, extra),
    warn: (msg: string, extra?: unknown) => line('WARN', msg, extra),
    error: (msg: string, extra?: unknown) => line('ERROR', msg, extra),
  }
}
export type Logger = ReturnType<typeof logger>
