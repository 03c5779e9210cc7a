/**
 * Keeps a kind of log line from flooding the log: the first occurrence is written at once,
 * later ones at most once per `intervalMs`, saying how many there were since the last
 * line. For what an outsider can repeat at will (bad signatures) or a destination that
 * stays down. The returned function gives the suffix to write after the message, or null
 * when this occurrence is only counted.
 */
export function logThrottle(intervalMs = 60_000, now: () => number = Date.now) {
  const kinds = new Map<string, { last: number; count: number }>()
  return (kind: string): string | null => {
    const t = now()
    const k = kinds.get(kind)
    if (!k) {
      // Bounded: a key may hold something a sender chose.
      if (kinds.size >= 1000) kinds.delete(kinds.keys().next().value as string)
      kinds.set(kind, { last: t, count: 0 })
      return ''
    }
    k.count++
    if (t - k.last < intervalMs) return null
    const suffix = ` (${k.count} time${k.count === 1 ? '' : 's'} in the last ${Math.round((t - k.last) / 1000)} s)`
    k.last = t
    k.count = 0
    return suffix
  }
}

/** A `warn` that goes through `logThrottle`: `warn(kind, message)`. */
export function throttledWarn(log: { warn: (msg: string) => void }, intervalMs?: number, now?: () => number) {
  const allow = logThrottle(intervalMs, now)
  return (kind: string, msg: string) => {
    const suffix = allow(kind)
    if (suffix !== null) log.warn(msg + suffix)
  }
}
