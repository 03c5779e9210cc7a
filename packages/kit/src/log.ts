import { createRequire } from 'node:module'
import pino from 'pino'

/**
 * Logs of every process, with pino: one JSON object a line by default (what a container
 * platform or a log shipper reads), pretty lines when stdout is a terminal (colour only
 * there, and never with NO_COLOR). `DX_LOG_FORMAT=json|pretty` and `DX_LOG_LEVEL`
 * (`debug`, `info`, `warn`, `error`, `silent`) override.
 *
 * Lines are written synchronously, as `console.log` is: a line logged just before
 * `process.exit` (a crash) is never lost. A flood of one message is cut down:
 * the first is written, the next ones within `DX_LOG_FLOOD_WINDOW_MS` (10 s) are counted,
 * and one line "… repeated N times" says how many when the window ends.
 */

/** What a function needs to log; any object with these three will do (tests pass a quiet one). */
export interface Logger {
  info(msg: string, extra?: unknown): void
  warn(msg: string, extra?: unknown): void
  error(msg: string, extra?: unknown): void
}

/** Fields put on every line of a child logger, such as `{ reqId }`. */
export type Bindings = Record<string, string | number | boolean | null | undefined>

/** What `logger(name)` returns. */
export interface AppLogger extends Logger {
  debug(msg: string, extra?: unknown): void
  /** A logger whose every line also carries `bindings` (e.g. the request id). */
  child(bindings: Bindings): AppLogger
  /** Writes the pending "repeated N times" lines now; for a graceful stop. */
  flush(): void
}

export type LogFormat = 'json' | 'pretty'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export type LoggingOptions = {
  format?: LogFormat
  /** Colour in pretty lines. */
  colour?: boolean
  level?: LogLevel
  /** Identical lines within this window are counted rather than written; 0 turns it off. */
  floodWindowMs?: number
  /** Where each line goes (it ends with a newline); default: stdout, synchronously. */
  write?: (line: string) => void
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']
/** Keys of every line; an `extra` object that has one of them is nested under `extra`. */
const RESERVED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'repeated'])
/** Distinct messages tracked at once by the flood limiter. */
const MAX_TRACKED = 1000

type Method = 'debug' | 'info' | 'warn' | 'error'
type Entry = { count: number; since: number; timer: NodeJS.Timeout | undefined; base: pino.Logger; method: Method; msg: string }

/** The extra argument as fields of the line: an Error as `err` (type, message, stack). */
function fieldsOf(extra: unknown): Record<string, unknown> | undefined {
  if (extra === undefined) return undefined
  if (extra instanceof Error) return { err: extra }
  if (extra !== null && typeof extra === 'object' && Object.getPrototypeOf(extra) === Object.prototype) {
    const obj = extra as Record<string, unknown>
    for (const k in obj) if (RESERVED.has(k)) return { extra }
    return obj
  }
  return { extra }
}

/**
 * A family of loggers sharing one output and one flood limiter. `logger()` below uses one
 * made from the environment; tests make their own with a `write` that keeps the lines.
 */
export function createLogging(opts: LoggingOptions = {}) {
  const format = opts.format ?? 'json'
  const windowMs = opts.floodWindowMs ?? 10_000
  const stream = destination(format, opts)
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: format === 'json' ? { pid: process.pid } : undefined,
      // JSON: level as a word and time as ISO 8601, readable without a decoder ring.
      ...(format === 'json' ? { formatters: { level: (label: string) => ({ level: label }) }, timestamp: pino.stdTimeFunctions.isoTime } : {}),
    },
    stream,
  )
  const flood = new Map<string, Entry>()

  function summarise(e: Entry) {
    const secs = Math.max(1, Math.round((Date.now() - e.since) / 1000))
    e.base[e.method]({ repeated: e.count }, `${e.msg} … repeated ${e.count} time${e.count === 1 ? '' : 's'} in ${secs} s`)
  }

  /** The window of one message ended: say how many were held back, and keep watching while it goes on. */
  function windowEnd(key: string) {
    const e = flood.get(key)
    if (!e) return
    if (e.count === 0) {
      flood.delete(key)
      return
    }
    summarise(e)
    e.count = 0
    e.since = Date.now()
    e.timer = setTimeout(windowEnd, windowMs, key)
    e.timer.unref()
  }

  /** True when this line is to be written now; false when it is only counted. */
  function admit(key: string, base: pino.Logger, method: Method, msg: string): boolean {
    const e = flood.get(key)
    if (e) {
      e.count++
      return false
    }
    if (flood.size >= MAX_TRACKED) {
      // The oldest message tracked makes room, saying first what it held back.
      const [oldKey, old] = flood.entries().next().value as [string, Entry]
      clearTimeout(old.timer)
      if (old.count > 0) summarise(old)
      flood.delete(oldKey)
    }
    const timer = setTimeout(windowEnd, windowMs, key)
    timer.unref()
    flood.set(key, { count: 0, since: Date.now(), timer, base, method, msg })
    return true
  }

  function flush() {
    for (const e of flood.values()) {
      clearTimeout(e.timer)
      if (e.count > 0) summarise(e)
    }
    flood.clear()
  }

  function wrap(p: pino.Logger, base: pino.Logger, name: string): AppLogger {
    const line = (method: Method) => (msg: string, extra?: unknown) => {
      if (!p.isLevelEnabled(method)) return
      msg = String(msg)
      if (windowMs > 0) {
        // Same level, logger and text (and error message or string detail): the same line.
        const detail = extra instanceof Error ? extra.message : typeof extra === 'string' ? extra : ''
        if (!admit(`${method}\0${name}\0${msg}\0${detail}`, base, method, msg)) return
      }
      const fields = fieldsOf(extra)
      if (fields) p[method](fields, msg)
      else p[method](msg)
    }
    return {
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      child: (bindings) => wrap(p.child(bindings), base, name),
      flush,
    }
  }

  return {
    logger(name: string): AppLogger {
      const base = root.child({ name })
      return wrap(base, base, name)
    },
    flush,
  }
}

let stdoutGuarded = false

/**
 * Lines go through `process.stdout`, which Node writes synchronously to a file, a pipe or
 * a terminal on Linux and macOS: nothing is lost at exit, and they stay in order with any
 * `console.log` of the same process.
 */
function destination(format: LogFormat, opts: LoggingOptions): pino.DestinationStream {
  if (!opts.write && !stdoutGuarded) {
    // A reader that went away (EPIPE) costs the log, never the process: as with console.log.
    stdoutGuarded = true
    process.stdout.on('error', () => {})
  }
  const out: (s: string) => void = opts.write ?? ((s) => void process.stdout.write(s))
  if (format === 'json') return { write: out }
  // Pretty lines are made in this thread (no worker), so they are as synchronous as JSON.
  const require = createRequire(import.meta.url)
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty')
  const prettify = prettyFactory({
    colorize: opts.colour ?? false,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,reqId',
    // The request id leads the message, so the lines of one request line up by eye.
    messageFormat: '{if reqId}[{reqId}] {end}{msg}',
    singleLine: true,
  })
  return { write: (s: string) => out(prettify(s)) }
}

/** The options `logger()` uses, from the environment and whether stdout is a terminal. */
export function loggingFromEnv(env: NodeJS.ProcessEnv = process.env, tty = process.stdout.isTTY === true): LoggingOptions {
  const f = env.DX_LOG_FORMAT
  const format: LogFormat = f === 'json' || f === 'pretty' ? f : tty ? 'pretty' : 'json'
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== ''
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0'
  const level = LEVELS.find((l) => l === env.DX_LOG_LEVEL?.toLowerCase()) ?? 'info'
  const w = Number(env.DX_LOG_FLOOD_WINDOW_MS)
  return { format, colour: !noColour && (tty || forced), level, floodWindowMs: env.DX_LOG_FLOOD_WINDOW_MS && Number.isFinite(w) && w >= 0 ? w : 10_000 }
}

let shared: ReturnType<typeof createLogging> | undefined
function logging() {
  if (!shared) {
    shared = createLogging(loggingFromEnv())
    // Even an exit nobody planned for says how many lines it held back.
    process.once('exit', () => shared?.flush())
  }
  return shared
}

/** The logger of one process or part (`gateway`, `todo`, …): its name is on every line. */
export function logger(name: string): AppLogger {
  return logging().logger(name)
}

/** Writes every pending "repeated N times" line; call it before exiting. */
export function flushLogs() {
  shared?.flush()
}
