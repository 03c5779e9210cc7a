// `make start` / `make watch` / `make stop`: runs every part of the system in one
// terminal, each log line prefixed with its process name; Ctrl-C stops them all.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pidFile = join(root, '.dx', 'run.pid')
const watch = process.argv.includes('--watch')
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const tailwind = join(root, 'node_modules', '.bin', 'tailwindcss')

type Part = { name: string; cmd: string; args: string[]; url?: string }

const parts: Part[] = [
  { name: 'todo', entry: 'services/todo/src/main.ts', port: process.env.TODO_PORT ?? '4001' },
  { name: 'chat', entry: 'services/chat/src/main.ts', port: process.env.CHAT_PORT ?? '4002' },
  { name: 'news', entry: 'services/news/src/main.ts', port: process.env.NEWS_PORT ?? '4003' },
  { name: 'gateway', entry: 'gateway/src/main.ts', port: process.env.PORT ?? '4040' },
]
  .filter((p) => existsSync(join(root, p.entry)))
  .map((p) => ({
    name: p.name,
    // tsx watch restarts one process when a file it imports changes; the others keep running.
    cmd: tsx,
    args: watch ? ['watch', '--clear-screen=false', p.entry] : [p.entry],
    url: `http://localhost:${p.port}`,
  }))
if (watch) parts.push({ name: 'css', cmd: tailwind, args: ['-i', 'packages/ui/src/app.css', '-o', 'packages/ui/dist/app.css', '--watch=always'] })

const colors = [36, 35, 33, 32, 34, 31]
const tty = process.stdout.isTTY
const width = Math.max(...parts.map((p) => p.name.length))

function prefix(name: string, i: number) {
  const label = name.padEnd(width)
  return tty ? `\x1b[${colors[i % colors.length]}m${label} |\x1b[0m ` : `${label} | `
}

function stopOther() {
  if (!existsSync(pidFile)) {
    console.log('distributex is not running (no .dx/run.pid)')
    return
  }
  const pid = Number(readFileSync(pidFile, 'utf8'))
  try {
    process.kill(pid, 'SIGTERM')
    console.log(`stopping distributex (pid ${pid})`)
  } catch {
    console.log(`distributex (pid ${pid}) was not running; removed stale .dx/run.pid`)
    rmSync(pidFile, { force: true })
  }
}

function run() {
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'))
    try {
      process.kill(pid, 0)
      console.error(`distributex is already running (pid ${pid}); run "make stop" first`)
      process.exit(1)
    } catch {
      // stale pid file from a crash: take over
    }
  }
  mkdirSync(join(root, '.dx'), { recursive: true })
  writeFileSync(pidFile, String(process.pid))

  const children = new Map<string, ChildProcess>()
  let stopping = false
  parts.forEach((p, i) => {
    const child = spawn(p.cmd, p.args, { cwd: root, env: { ...process.env, ...(tty ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }) }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.set(p.name, child)
    const pre = prefix(p.name, i)
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(pre + line + '\n'))
    }
    child.on('exit', (code, signal) => {
      children.delete(p.name)
      if (!stopping) process.stdout.write(`${pre}exited (${signal ?? `code ${code}`}); the others keep running\n`)
      if (stopping && children.size === 0) done()
    })
  })

  const urls = parts.filter((p) => p.url).map((p) => `  ${(p.name === 'gateway' ? 'main app' : p.name).padEnd(8)}  ${p.url}`)
  console.log(`\ndistributex ${watch ? 'watching' : 'starting'}:\n${urls.join('\n')}\nCtrl-C (or "make stop") stops everything.\n`)

  const done = () => {
    rmSync(pidFile, { force: true })
    console.log('distributex stopped')
    process.exit(0)
  }
  const stop = (sig: string) => {
    if (stopping) return
    stopping = true
    console.log(`\n${sig}: stopping ${children.size} processes…`)
    if (children.size === 0) return done()
    for (const c of children.values()) c.kill('SIGTERM')
    setTimeout(() => {
      for (const c of children.values()) c.kill('SIGKILL')
      done()
    }, 8000).unref()
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

if (process.argv.includes('--stop')) stopOther()
else run()
