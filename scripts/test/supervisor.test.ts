import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Supervisor, type Exit, type SupervisorOptions } from '../lib/supervisor.js'
import { alive } from '../lib/process.js'

/** A supervisor of `node -e code`, recording what it logs, the restart delays it asks for and each exit. */
function supervise(code: string, opts: Partial<SupervisorOptions> = {}) {
  const logs: string[] = []
  const delays: number[] = []
  const exits: { exit: Exit; next: string }[] = []
  let starts = 0
  const sup = new Supervisor({
    name: 'part',
    spawn: () => {
      starts++
      return spawn(process.execPath, ['-e', code], { stdio: 'ignore' })
    },
    log: (l) => logs.push(l),
    onExit: (exit, next) => exits.push({ exit, next }),
    initialDelayMs: 20,
    maxDelayMs: 80,
    timers: {
      setTimeout: (fn, ms) => {
        delays.push(ms)
        return setTimeout(fn, ms)
      },
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      now: () => Date.now(),
    },
    ...opts,
  })
  sup.keepAlive = true
  return { sup, logs, delays, exits, starts: () => starts }
}

async function until(what: string, ok: () => boolean, ms = 15_000) {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
  }
}

test('a child that exits 1 is restarted with a doubling backoff, up to the ceiling', async (t) => {
  const s = supervise('process.exit(1)')
  t.after(() => s.sup.stop())
  s.sup.start()
  await until('5 exits', () => s.exits.length >= 5)
  assert.deepEqual(s.delays.slice(0, 5), [20, 40, 80, 80, 80])
  assert.ok(s.exits.every((e) => e.next === 'restart' && e.exit.code === 1))
  assert.match(s.logs.find((l) => l.includes('crashed'))!, /^part \(pid \d+\) crashed with exit code 1: restarting in 20 ms$/)
  assert.ok(s.logs.filter((l) => /^part started \(pid \d+\)$/.test(l)).length >= 5, 'each start logs its pid')
})

test('the backoff starts afresh after the child stayed up long enough', async (t) => {
  // Lives 100 ms, and 50 ms counts as stable: every crash waits the first delay again.
  const s = supervise('setTimeout(() => process.exit(3), 100)', { stableAfterMs: 50 })
  t.after(() => s.sup.stop())
  s.sup.start()
  await until('3 exits', () => s.exits.length >= 3)
  assert.deepEqual(s.delays.slice(0, 3), [20, 20, 20])
})

test('a child killed by a signal from outside stays down, and the log says how to bring it back', async (t) => {
  const s = supervise('setInterval(() => {}, 1000)')
  t.after(() => s.sup.stop())
  const child = s.sup.start()
  await sleep(100)
  child.kill('SIGKILL')
  await until('the exit', () => s.exits.length === 1)
  assert.deepEqual(s.exits[0], { exit: { code: null, signal: 'SIGKILL' }, next: 'down' })
  await sleep(150)
  assert.equal(s.starts(), 1)
  assert.equal(s.sup.state, 'down')
  assert.match(s.logs.at(-1)!, /^part \(pid \d+\) was stopped by SIGKILL from outside: it stays down.*make start/)
})

test('a child that exits 0 on its own stays down (what our processes do on kill <pid>)', async (t) => {
  const s = supervise('process.exit(0)')
  t.after(() => s.sup.stop())
  s.sup.start()
  await until('the exit', () => s.exits.length === 1)
  await sleep(150)
  assert.equal(s.starts(), 1)
  assert.match(s.logs.at(-1)!, /exited with code 0.*stays down/)
})

test('stop() cancels a pending restart', async () => {
  const s = supervise('process.exit(1)', { initialDelayMs: 300 })
  s.sup.start()
  await until('the first exit', () => s.exits.length === 1)
  assert.equal(s.sup.state, 'restarting')
  await s.sup.stop()
  await sleep(500)
  assert.equal(s.starts(), 1)
  assert.equal(s.sup.state, 'down')
})

test('stop() ends a running child with SIGTERM, and SIGKILL when it ignores that', async () => {
  let ready!: Promise<unknown>
  const s = supervise('', {
    stopGraceMs: 200,
    spawn: () => {
      const code = 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] })
      ready = once(child.stdout!, 'data')
      return child
    },
  })
  const child = s.sup.start()
  await ready
  await s.sup.stop()
  assert.equal(child.signalCode, 'SIGKILL')
  assert.deepEqual(s.exits, [], 'an exit that stop() asked for is not reported')
})

test('during start-up (keepAlive off) a crash is reported as down, never restarted', async () => {
  const s = supervise('process.exit(1)')
  s.sup.keepAlive = false
  s.sup.start()
  await until('the exit', () => s.exits.length === 1)
  await sleep(100)
  assert.equal(s.exits[0].next, 'down')
  assert.equal(s.starts(), 1)
  assert.deepEqual(s.delays, [])
})

test('in group mode, what outlives a killed child (a watcher\'s server) is killed with it', async (t) => {
  let grandchild = 0
  let ready!: Promise<unknown>
  const s = supervise('', {
    group: true,
    spawn: () => {
      const code = `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)`
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'], detached: true })
      ready = once(child.stdout!, 'data').then(([d]) => (grandchild = Number(String(d))))
      return child
    },
  })
  t.after(() => {
    s.sup.stop()
    if (grandchild && alive(grandchild)) process.kill(grandchild, 'SIGKILL')
  })
  const child = s.sup.start()
  await ready
  assert.ok(alive(grandchild))
  child.kill('SIGKILL')
  await until('the grandchild to go', () => !alive(grandchild), 5000)
  assert.equal(s.exits[0].next, 'down')
})


test('restart() (make watch, after an edit) replaces the running child at once, silently, with the backoff reset', async (t) => {
  const s = supervise('setInterval(() => {}, 1000)')
  t.after(() => s.sup.stop())
  const first = s.sup.start()
  await sleep(100)
  const states: string[] = []
  first.once('exit', () => states.push(s.sup.state))
  const second = await s.sup.restart()
  assert.ok(second && second !== first && second.pid !== first.pid)
  assert.equal(first.signalCode, 'SIGTERM')
  assert.equal(s.sup.child, second)
  assert.equal(s.sup.state, 'running')
  assert.deepEqual(states, ['restarting'], 'never "down" in between: the runner would take it for a part that stopped')
  assert.deepEqual(s.exits, [], 'the replaced child\'s exit is not reported')
  assert.equal(s.logs.filter((l) => /stays down|crashed/.test(l)).length, 0)
  assert.equal(s.starts(), 2)
})

test('restart() of a crashed part waiting for its backoff starts it now; two restarts in a row start one child each, in turn', async (t) => {
  const s = supervise('process.exit(1)', { initialDelayMs: 5000, maxDelayMs: 5000 })
  t.after(() => s.sup.stop())
  s.sup.start()
  await until('the crash', () => s.exits.length === 1)
  assert.equal(s.sup.state, 'restarting')
  const a = s.sup.restart()
  const b = s.sup.restart()
  const [ca, cb] = await Promise.all([a, b])
  assert.ok(ca && cb && ca !== cb)
  assert.equal(s.starts(), 3, 'the 5 s backoff was not waited for')
  await until('both crashes', () => s.exits.length === 2)
})

test('restart() after stop() starts nothing', async () => {
  const s = supervise('setInterval(() => {}, 1000)')
  s.sup.start()
  const stopped = s.sup.stop()
  const restarted = s.sup.restart()
  await stopped
  assert.equal(await restarted, undefined)
  assert.equal(s.starts(), 1)
  assert.equal(s.sup.state, 'down')
})
