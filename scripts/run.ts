// `make start` / `make watch` / `make stop`: runs every part of the system in one
// terminal, each log line prefixed with its part's name; Ctrl-C or `make stop` stops them
// all. Which part runs on which port comes from lib/plan.ts; what happens when a part
// exits, from lib/supervisor.ts.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { answers200, gatewayView, portProblem } from './lib/net.js'
import { alive } from './lib/process.js'
import { PlanError, planRun, type Part, type Plan } from './lib/plan.js'
import { planCluster } from './lib/cluster-plan.js'
import { natsFacts } from './lib/cluster-facts.js'
import { Supervisor, type Exit } from './lib/supervisor.js'
import { startDevServer, type DevServer } from './lib/dev-server.js'
import { Reloader, waitUntil } from './lib/dev-reloader.js'
import { watchContent, watchRoots, watchSources, type Closer } from './lib/dev-watch.js'
import { buildGateway } from '../gateway/build.js'

const root = fileURLToPath(new URL('..', import.meta.url))
// Its own DX_RUN_DIR lets a test (or a second checkout) run beside a developer's instance.
const pidFile = join(resolve(root, process.env.DX_RUN_DIR ?? '.dx'), 'run.pid')
const watch = process.argv.includes('--watch')
// `make start-cluster`: two gateways and two replicas of each service on NATS (lib/cluster-plan.ts).
const cluster = process.argv.includes('--cluster')
const bin = (name: string) => join(root, 'node_modules', '.bin', name)
// tsx compiles every file on a cold start; on a busy 2-core machine that takes a while.
const START_TIMEOUT_MS = 60_000
const TAIL_LINES = 15

const tty = process.stdout.isTTY
const colors = [36, 35, 33, 32, 34, 31]
let width = 2
const label = (name: string, color: number) => {
  const text = `${name.padEnd(width)} |`
  return tty ? `\x1b[${color}m${text}\x1b[0m ` : `${text} `
}
/** The runner's own lines, apart from what the parts print. */
const say = (line: string) => process.stdout.write(`${label('dx', 1)}${line}\n`)

function readPid(): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8'))
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** A pid file outlives a crash and pids are reused: only signal a process that is a runner. */
function isRunner(pid: number) {
  if (!alive(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('run.ts')
  } catch {
    return true // no /proc here: trust the pid
  }
}

async function stopOther() {
  const pid = readPid()
  if (pid === undefined) return console.log(`distributex is not running (no ${pidFile})`)
  if (!isRunner(pid)) {
    rmSync(pidFile, { force: true })
    return console.log(`distributex (pid ${pid}) was not running; removed the stale ${pidFile}`)
  }
  process.kill(pid, 'SIGTERM')
  console.log(`stopping distributex (pid ${pid})…`)
  for (const until = Date.now() + 15_000; alive(pid); await sleep(100)) {
    if (Date.now() > until) {
      console.error(`distributex (pid ${pid}) is still running after 15 s; kill it with: kill -9 ${pid}`)
      process.exit(1)
    }
  }
  console.log('distributex stopped')
}

function portMessage(p: Pick<Part, 'name' | 'port' | 'portVar'>, code: string, host: string) {
  if (code === 'EADDRINUSE') return `port ${p.port} (${p.name}) is already in use by another program: set ${p.portVar} to another port`
  if (code === 'EACCES') return `port ${p.port} (${p.name}) needs privileges this user lacks: set ${p.portVar} to a port above 1023`
  return `port ${p.port} (${p.name}) cannot be opened on ${host} (${code}): check HOST and ${p.portVar}`
}

function spawnPart(p: Part, prefix: string, tail: string[]): ChildProcess {
  // The parts write through a pipe, so they would log JSON: on a terminal, readable lines.
  const colour = tty ? { FORCE_COLOR: '1', DX_LOG_FORMAT: process.env.DX_LOG_FORMAT ?? 'pretty' } : { NO_COLOR: '1' }
  // Each part in its own process group: a terminal's Ctrl-C reaches only the runner, which
  // stops the parts once each, and a part's leftovers can be killed with it (Supervisor.group).
  const child = spawn(p.cmd, p.args, { cwd: root, env: { ...p.env, ...colour }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(prefix + line + '\n')
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
    })
  }
  return child
}

async function run() {
  const env = { ...process.env }
  // Events between the parts are signed; a run without a configured secret gets its own.
  const generatedSecret = !env.DX_EVENT_SECRET
  if (generatedSecret) env.DX_EVENT_SECRET = randomBytes(32).toString('hex')
  let plan: Plan
  try {
    const opts = { watch, node: process.execPath, tsx: bin('tsx'), tailwind: bin('tailwindcss') }
    const runDir = resolve(root, process.env.DX_RUN_DIR ?? '.dx')
    plan = cluster ? planCluster(env, { ...opts, nats: await natsFacts(env), runDir }) : planRun(env, opts)
  } catch (e) {
    if (!(e instanceof PlanError)) throw e
    console.error(e.message)
    process.exit(2)
  }

  const other = readPid()
  if (other !== undefined && isRunner(other)) {
    console.error(`distributex is already running (pid ${other}); run "make stop" first`)
    process.exit(1)
  }
  // Every port is tried before anything starts: a half-started system is harder to read.
  const busy: string[] = []
  const stream = plan.dev && { name: 'make watch\'s reload stream', port: plan.dev.port, portVar: plan.dev.portVar }
  for (const p of stream ? [...plan.parts, stream] : plan.parts) {
    const code = p.port === undefined ? undefined : await portProblem(p.port, plan.listenHost)
    if (code) busy.push(portMessage(p, code, plan.listenHost))
  }
  if (busy.length > 0) {
    for (const line of busy) console.error(line)
    process.exit(1)
  }

  // The gateway runs from its bundle; built here too, so a plain `npm start` runs the sources as they are.
  if (!watch) {
    try {
      await buildGateway()
    } catch (e) {
      console.error(`building the gateway (gateway/build.ts) failed: ${(e as Error).message}`)
      process.exit(1)
    }
  }
  mkdirSync(join(pidFile, '..'), { recursive: true })
  writeFileSync(pidFile, String(process.pid))
  width = Math.max(2, ...plan.parts.map((p) => p.name.length))
  for (const note of plan.notes) say(note)
  if (generatedSecret) say('DX_EVENT_SECRET is not set: generated one for this run')

  let started = false
  let stopping = false
  const tails = plan.parts.map(() => [] as string[])
  const exits: (Exit | undefined)[] = []
  const sups = plan.parts.map(
    (p, i) =>
      new Supervisor({
        name: p.name,
        spawn: () => spawnPart(p, label(p.name, colors[i % colors.length]), tails[i]),
        log: say,
        group: true,
        onExit: (exit) => {
          exits[i] = exit
          if (started && !stopping && sups.every((s) => s.state === 'down')) void finish('every part has stopped', 1)
        },
      }),
  )

  let dev: Awaited<ReturnType<typeof startDev>> | undefined
  async function finish(why: string, code: number) {
    if (stopping) return
    stopping = true
    await dev?.close()
    say(`${why}: stopping ${sups.filter((s) => s.state === 'running').length} processes…`)
    await Promise.all(sups.map((s) => s.stop()))
    if (readPid() === process.pid) rmSync(pidFile, { force: true })
    say('distributex stopped')
    process.exit(code)
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void finish(sig, 0))
  // Parts in their own process groups outlive a runner that dies of a bug: not silently.
  process.on('exit', () => sups.forEach((s) => s.child?.kill('SIGTERM')))

  if (plan.dev) {
    // A part that crashes on an edit is restarted (with backoff, at once on the next save)
    // from the start: the developer is fixing it, the others keep running.
    for (const s of sups) s.keepAlive = true
    try {
      dev = await startDev(plan, sups)
    } catch (e) {
      console.error(`make watch's reload stream could not start on port ${plan.dev.port}: ${(e as Error).message}`)
      return finish('start-up failed', 1)
    }
  }
  const children = sups.map((s) => s.start())
  const failure = await startUp(plan, sups, children, tails, exits)
  if (stopping) return
  if (failure) {
    console.error(failure)
    return finish('start-up failed', 1)
  }
  started = true
  for (const s of sups) s.keepAlive = true
  const w = Math.max(...plan.urls.map((u) => u.label.length))
  console.log(
    `\ndistributex is up${watch ? ', watching for changes' : ''}:\n` +
      plan.urls.map((u) => `  ${u.label.padEnd(w)}  ${u.url}`).join('\n') +
      '\nCtrl-C (or "make stop") stops everything.\n',
  )
}

/**
 * `make watch`: the reload stream, the source watcher that restarts the parts a change
 * concerns (and reloads their pages once they are healthy), and the CSS watcher that has
 * pages swap the stylesheet Tailwind rebuilt.
 */
async function startDev(plan: Plan, sups: Supervisor[]) {
  const stream: DevServer = await startDevServer({ host: plan.listenHost, port: plan.dev!.port })
  const gateway = plan.parts.find((p) => p.name === 'gateway')
  const reloader = new Reloader({
    parts: plan.parts.map((p, i) => ({
      name: p.name,
      entry: p.entry,
      port: p.port,
      restart: () => sups[i].restart(),
      healthy: (signal) => (p.health ? waitUntil(() => answers200(p.health!), signal, START_TIMEOUT_MS) : Promise.resolve(true)),
    })),
    mainPort: gateway?.port,
    log: say,
    emit: (e) => {
      say(`${e.parts.length ? `${e.parts.join(', ')} healthy again` : 'client files changed'}: reloading the pages on port ${e.ports.join(', ')}`)
      stream.send('reload', e)
    },
  })
  const css = join(root, 'packages/ui/dist/app.css')
  mkdirSync(join(css, '..'), { recursive: true })
  const watchers: Closer[] = [
    watchSources(root, watchRoots(plan.parts), (files) => reloader.changed(files)),
    watchContent(css, () => {
      say('app.css rebuilt: open pages swap in the new stylesheet')
      stream.send('css', {})
    }),
  ]
  say(`open pages follow ${plan.dev!.url}/events: they reload when a part they show restarted after a change`)
  return {
    close: async () => {
      reloader.close()
      watchers.forEach((w) => w.close())
      await stream.close()
    },
  }
}

/**
 * Waits until every part answers its /healthz. A part that exits first, or never answers,
 * is the failure to report (with its last lines); in watch mode a silent part may just
 * have a syntax error the developer is fixing, so it is only a warning.
 */
async function startUp(plan: Plan, sups: Supervisor[], children: ChildProcess[], tails: string[][], exits: (Exit | undefined)[]) {
  const waiting = new Set(plan.parts.filter((p) => p.health))
  const until = Date.now() + START_TIMEOUT_MS
  const lastLines = (i: number) => (tails[i].length ? `; its last lines:\n${tails[i].map((l) => `  ${l}`).join('\n')}` : ' (it printed nothing)')
  for (;;) {
    const gone = sups.findIndex((s) => s.state === 'down')
    if (gone >= 0) {
      const child = children[gone]
      // Let the last lines arrive: 'exit' can come before the pipes are drained.
      if (child.stdout && !child.stdout.readableEnded) await Promise.race([once(child, 'close'), sleep(1000)])
      const exit = exits[gone]
      const how = exit?.signal ? `killed by ${exit.signal}` : exit?.code != null ? `exit code ${exit.code}` : 'could not be started'
      return `${plan.parts[gone].name} exited during start-up (${how})${lastLines(gone)}`
    }
    if (waiting.size === 0) return void (await gatewaysSeeServices(plan))
    await Promise.all([...waiting].map(async (p) => (await answers200(p.health!)) && waiting.delete(p)))
    if (waiting.size > 0 && Date.now() > until) {
      const i = plan.parts.indexOf([...waiting][0])
      const problem = `${plan.parts[i].name} did not answer ${plan.parts[i].health} with 200 within ${START_TIMEOUT_MS / 1000} s`
      if (!watch) return problem + lastLines(i)
      say(`${problem}; it keeps running, and so do the others`)
      waiting.clear()
    }
    if (waiting.size > 0) await sleep(200)
  }
}

/**
 * Once every part answers, each gateway's view of the services catches up within one of
 * its health intervals (2 s by default): waited for, so that "is up" means the main app
 * shows every widget. Not a failure when it does not: the gateway keeps probing.
 */
async function gatewaysSeeServices(plan: Plan) {
  const started = Date.now()
  for (const p of plan.parts.filter((p) => p.status)) {
    let view = await gatewayView(p.status!)
    while (view?.notUp.length !== 0 && Date.now() - started < 10_000) {
      // A gateway that does not probe (health_interval_ms = 0) keeps every replica unknown,
      // and sends them traffic all the same: nothing to wait for.
      if (view && !view.probing && Date.now() - started > 3000) break
      await sleep(100)
      view = await gatewayView(p.status!)
    }
    if (view === undefined) say(`${p.name}: its status (${p.status}) could not be read`)
    else if (view.notUp.length && view.probing) say(`${p.name} does not see ${view.notUp.join(', ')} up yet: it serves fallbacks there until its next health probe succeeds`)
  }
}

if (process.argv.includes('--stop')) await stopOther()
else await run()
