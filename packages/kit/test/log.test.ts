import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { root } from '@dx/testkit'
import { createLogging, loggingFromEnv, type LoggingOptions } from '../src/log.js'

/** A family of loggers whose lines are kept, parsed. */
function capture(opts: LoggingOptions = {}) {
  const raw: string[] = []
  const logging = createLogging({ ...opts, write: (s) => raw.push(s) })
  return { logging, raw, lines: () => raw.map((s) => JSON.parse(s) as Record<string, unknown>) }
}

test('JSON lines by default: level as a word, ISO time, name, msg; an Error as err with its stack', () => {
  const { logging, raw, lines } = capture()
  const log = logging.logger('gateway')
  log.info('listening on http://127.0.0.1:4040')
  log.warn('100% of %s replicas down', { service: 'todo', replicas: 2 })
  log.error('a handler failed', new Error('boom'))
  log.error('odd detail', 'a string')
  log.info('clash', { msg: 'not mine', level: 'nope' })
  for (const s of raw) assert.ok(s.endsWith('\n') && !s.slice(0, -1).includes('\n'), `one line each: ${s}`)
  const [a, b, c, d, e] = lines()
  assert.equal(a.level, 'info')
  assert.equal(a.name, 'gateway')
  assert.equal(a.msg, 'listening on http://127.0.0.1:4040')
  assert.equal(a.pid, process.pid)
  assert.match(String(a.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  assert.ok(Math.abs(Date.parse(String(a.time)) - Date.now()) < 5000)
  // No printf: a message is written as given. A plain object's fields join the line.
  assert.deepEqual([b.level, b.msg, b.service, b.replicas], ['warn', '100% of %s replicas down', 'todo', 2])
  const err = c.err as { type: string; message: string; stack: string }
  assert.deepEqual([c.level, c.msg, err.type, err.message], ['error', 'a handler failed', 'Error', 'boom'])
  assert.match(err.stack, /^Error: boom\n\s+at /)
  assert.equal(d.extra, 'a string')
  // Fields that would overwrite the line's own stay apart.
  assert.deepEqual([e.msg, e.level, e.extra], ['clash', 'info', { msg: 'not mine', level: 'nope' }])
})

test('child(bindings) puts them on every line of the child, and children nest', () => {
  const { logging, lines } = capture()
  const log = logging.logger('gateway')
  const req = log.child({ reqId: 'r-1' })
  req.warn('todo: http://127.0.0.1:4001 ECONNREFUSED')
  req.child({ service: 'todo' }).info('fallback served')
  log.info('no request here')
  const [a, b, c] = lines()
  assert.deepEqual([a.name, a.reqId, a.msg], ['gateway', 'r-1', 'todo: http://127.0.0.1:4001 ECONNREFUSED'])
  assert.deepEqual([b.reqId, b.service, b.msg], ['r-1', 'todo', 'fallback served'])
  assert.equal(c.reqId, undefined)
})

test('a flood of one warning is one line, then "repeated N times" when the window ends', async () => {
  const { logging, lines } = capture({ floodWindowMs: 150 })
  const log = logging.logger('gateway')
  for (let i = 0; i < 7604; i++) log.warn('request bodies in flight reached 67108864 bytes')
  log.warn('another message is not held back')
  // The same text at another level, or from another logger, is another line.
  log.error('request bodies in flight reached 67108864 bytes')
  logging.logger('todo').warn('request bodies in flight reached 67108864 bytes')
  assert.equal(lines().length, 4)
  await sleep(400)
  const all = lines()
  assert.equal(all.length, 5, JSON.stringify(all))
  const summary = all[4]
  assert.equal(summary.level, 'warn')
  assert.equal(summary.name, 'gateway')
  assert.equal(summary.repeated, 7603)
  assert.match(String(summary.msg), /^request bodies in flight reached 67108864 bytes … repeated 7603 times in \d+ s$/)
  // The flood is over: after a quiet window, the message is written again at once.
  await sleep(400)
  log.warn('request bodies in flight reached 67108864 bytes')
  assert.equal(lines().length, 6)
})

test('a flood that goes on gives one line per window, each with its count', async () => {
  const { logging, lines } = capture({ floodWindowMs: 100 })
  const log = logging.logger('chat')
  const until = Date.now() + 450
  let sent = 0
  while (Date.now() < until) {
    log.warn('queue full')
    sent++
    await sleep(5)
  }
  await sleep(250)
  const all = lines()
  // About one line per window (timers run late on a busy machine: fewer, never more).
  assert.ok(all.length >= 2 && all.length <= 7, `${all.length} lines for ${sent} warnings`)
  const counted = all.slice(1).reduce((n, l) => n + Number(l.repeated), 0)
  assert.equal(1 + counted, sent, 'every warning is written or counted')
})

test('errors with other messages are not merged; flush() writes what is held back', () => {
  const { logging, lines } = capture({ floodWindowMs: 60_000 })
  const log = logging.logger('gateway')
  log.error('could not publish', new Error('ECONNREFUSED'))
  log.error('could not publish', new Error('ETIMEDOUT'))
  log.error('could not publish', new Error('ETIMEDOUT'))
  log.error('could not publish', new Error('ETIMEDOUT'))
  assert.equal(lines().length, 2)
  log.flush()
  const all = lines()
  assert.equal(all.length, 3)
  assert.deepEqual([all[2].repeated, all[2].msg], [2, 'could not publish … repeated 2 times in 1 s'])
  // Nothing is pending any more.
  logging.flush()
  assert.equal(lines().length, 3)
})

test('levels: debug is off by default; DX_LOG_LEVEL turns it on or quiets everything', () => {
  const quiet = capture()
  quiet.logging.logger('x').debug('hidden')
  assert.equal(quiet.raw.length, 0)
  const loud = capture({ level: 'debug' })
  loud.logging.logger('x').debug('shown')
  assert.equal(loud.lines()[0].level, 'debug')
  const silent = capture({ level: 'silent' })
  silent.logging.logger('x').error('not even this')
  assert.equal(silent.raw.length, 0)
  assert.equal(loggingFromEnv({ DX_LOG_LEVEL: 'DEBUG' }, false).level, 'debug')
  assert.equal(loggingFromEnv({ DX_LOG_LEVEL: 'chatty' }, false).level, 'info')
})

test('pretty lines on a terminal, colour only there and never with NO_COLOR', () => {
  assert.deepEqual([loggingFromEnv({}, false).format, loggingFromEnv({}, false).colour], ['json', false])
  assert.deepEqual([loggingFromEnv({}, true).format, loggingFromEnv({}, true).colour], ['pretty', true])
  assert.equal(loggingFromEnv({ NO_COLOR: '1' }, true).colour, false)
  assert.equal(loggingFromEnv({ NO_COLOR: '' }, true).colour, true)
  assert.equal(loggingFromEnv({ DX_LOG_FORMAT: 'json' }, true).format, 'json')
  assert.equal(loggingFromEnv({ DX_LOG_FORMAT: 'pretty' }, false).format, 'pretty')
  assert.equal(loggingFromEnv({ DX_LOG_FORMAT: 'pretty', FORCE_COLOR: '1' }, false).colour, true)
  assert.equal(loggingFromEnv({ DX_LOG_FORMAT: 'pretty', FORCE_COLOR: '1', NO_COLOR: '1' }, false).colour, false)

  const plain: string[] = []
  const log = createLogging({ format: 'pretty', colour: false, write: (s) => plain.push(s) }).logger('gateway')
  log.child({ reqId: 'r-9' }).warn('todo is down')
  log.error('it failed', new Error('boom'))
  assert.match(plain[0], /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(gateway\): \[r-9\] todo is down\n$/)
  assert.match(plain[1], /ERROR \(gateway\): it failed[\s\S]*Error: boom/)
  assert.ok(!plain.join('').includes('\x1b['), 'no escape codes without colour')

  const coloured: string[] = []
  createLogging({ format: 'pretty', colour: true, write: (s) => coloured.push(s) }).logger('gateway').warn('todo is down')
  assert.ok(coloured[0].includes('\x1b['), 'escape codes with colour')
})

test('a real process: JSON lines on a pipe, and a line logged just before process.exit is written', () => {
  const code = `
    import { logger } from './packages/kit/src/log.ts'
    const log = logger('proc')
    log.info('first')
    for (let i = 0; i < 50; i++) log.warn('same')
    log.error('last words before exit')
    process.exit(3)
  `
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DX_LOG_FORMAT: '', DX_LOG_LEVEL: '', NO_COLOR: '' },
  })
  assert.equal(r.status, 3, r.stderr)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual(
    lines.map((l) => [l.level, l.name, l.msg]),
    [
      ['info', 'proc', 'first'],
      ['warn', 'proc', 'same'],
      ['error', 'proc', 'last words before exit'],
      // Held back in the window, written on the way out.
      ['warn', 'proc', 'same … repeated 49 times in 1 s'],
    ],
  )
})
