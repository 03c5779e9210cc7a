// What `make start` runs: a pure function from the environment to the parts, each with
// its own command, env, port and URLs, so the wiring can be tested without starting
// anything. A mistake in the variables is one PlanError line, never a half-started system.

import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { bundlePath as GATEWAY_BUNDLE, nodeFlags as gatewayNodeFlags } from '../../gateway/build.js'

/** How make start and make start-cluster run the gateway: its bundle, with its node flags (gateway/build.ts). */
export const gatewayBundleCommand = (node: string) => ({ cmd: node, args: [...gatewayNodeFlags, GATEWAY_BUNDLE] })

/** Where the runner reads a gateway's view of its services (`Part.status`). */
export const gatewayStatusUrl = (connectHost: string, port: number) => `http://${connectHost}:${port}/_dx/status.json`

/** The services `make start` runs; a new service adds one line here (and its gateway.toml entry). */
export const services = [
  { name: 'todo', entry: 'services/todo/src/main.ts', port: 4001 },
  { name: 'chat', entry: 'services/chat/src/main.ts', port: 4002 },
  { name: 'news', entry: 'services/news/src/main.ts', port: 4003 },
]
/** Services in Python, run with python3 only where one is found (gateway.toml marks them optional). */
export const pythonServices = [{ name: 'clock', entry: 'examples/python-clock/clock.py', port: 4004 }]
const gateway = { name: 'gateway', entry: 'gateway/src/main.ts', port: 4040 }

export type Env = Record<string, string | undefined>

export type Part = {
  name: string
  cmd: string
  args: string[]
  /** The TypeScript file it runs: `make watch` restarts it when its sources change (dev-watch.ts). */
  entry?: string
  /** The child's whole environment. */
  env: Record<string, string>
  port?: number
  /** The variable a user sets to move this part to another port. */
  portVar?: string
  /** Polled at start-up: the part is up once it answers 200. */
  health?: string
  /**
   * A gateway's status JSON, read once every part is up: the banner waits until the gateway
   * has seen a replica of each service up, or its first requests could find one still
   * marked down from a probe made while that service was starting.
   */
  status?: string
}

export type Plan = {
  parts: Part[]
  /** For the banner: what to open in a browser. */
  urls: { label: string; url: string }[]
  /** Where the runner tries each port before starting anything. */
  listenHost: string
  /** Things the user should know about how their variables were read. */
  notes: string[]
  /** `make watch`: the runner's reload stream for the pages (scripts/lib/dev-server.ts). */
  dev?: { port: number; portVar: string; url: string }
}

export class PlanError extends Error {}

export type PlanOptions = {
  watch?: boolean
  node?: string
  tsx?: string
  tailwind?: string
  /** The python3 for `pythonServices`; null: none. Unset: env `DX_PYTHON` (empty: none), else python3 on PATH. */
  python?: string | null
}

/** The first executable `cmd` in `PATH`, or undefined. */
export function findOnPath(cmd: string, PATH = ''): string | undefined {
  for (const dir of PATH.split(delimiter)) {
    if (!dir) continue
    const file = join(dir, cmd)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

function pythonFor(env: Env, opt: string | null | undefined): string | undefined {
  if (opt !== undefined) return opt ?? undefined
  if (env.DX_PYTHON !== undefined) return env.DX_PYTHON.trim() || undefined
  return findOnPath('python3', env.PATH)
}

/** `my-svc` → `MY_SVC`, the stem of that service's variables (as the gateway's `NAME_URL`). */
export const envName = (name: string) => name.toUpperCase().replace(/-/g, '_')
const portVarOf = (name: string) => `${envName(name)}_PORT`

export function readPort(env: Env, name: string): number | undefined {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const n = Number(raw.trim())
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 65535) {
    throw new PlanError(`${name}=${JSON.stringify(raw)} is not a port: expected a whole number from 1 to 65535`)
  }
  return n
}

/**
 * HOST is passed through to every part; from it follow the address the runner and the
 * gateway use to reach a part, and the host name a browser is given.
 */
export function hostsFor(HOST: string | undefined) {
  const bare = (HOST ?? '').trim().replace(/^\[(.*)\]$/, '$1')
  const wildcard = bare === '' || bare === '0.0.0.0' || bare === '::'
  const inUrl = bare.includes(':') ? `[${bare}]` : bare
  const loopback = wildcard || bare === '127.0.0.1' || bare === 'localhost' || bare === '::1'
  return {
    listen: wildcard ? '127.0.0.1' : bare,
    connect: wildcard ? '127.0.0.1' : inUrl,
    browser: loopback ? 'localhost' : inUrl,
  }
}

export function planRun(env: Env, opts: PlanOptions = {}): Plan {
  const { watch = false, node = 'node', tailwind = 'tailwindcss' } = opts
  const notes: string[] = []

  // A plain PORT is what people type first; giving it to every child made all four fight
  // over one port, so it means the gateway's port here, and only that.
  let gatewayPort = readPort(env, 'GATEWAY_PORT')
  let gatewayVar = 'GATEWAY_PORT'
  const plainPort = readPort(env, 'PORT')
  if (plainPort !== undefined && gatewayPort === undefined) {
    gatewayPort = plainPort
    gatewayVar = 'PORT'
    notes.push(`PORT=${plainPort} is taken as the gateway's port (GATEWAY_PORT); the services keep their own (${services.map((s) => portVarOf(s.name)).join(', ')})`)
  } else if (plainPort !== undefined && plainPort !== gatewayPort) {
    notes.push(`PORT=${plainPort} is ignored: GATEWAY_PORT=${gatewayPort} sets the gateway's port`)
  }

  const python = pythonFor(env, opts.python)
  const chosen = [...services, ...(python ? pythonServices.map((s) => ({ ...s, python })) : [])]
  const svc = chosen.map((s: { name: string; entry: string; port: number; python?: string }) => {
    const portVar = portVarOf(s.name)
    const set = readPort(env, portVar)
    return { ...s, port: set ?? s.port, portVar, isSet: set !== undefined }
  })
  const gw = { ...gateway, port: gatewayPort ?? gateway.port, portVar: gatewayVar, isSet: gatewayPort !== undefined }

  const taken = new Map<number, string>()
  for (const p of [gw, ...svc]) {
    const label = p.isSet ? p.portVar : `${p.portVar} (default)`
    const other = taken.get(p.port)
    if (other) throw new PlanError(`${other} and ${label} both give port ${p.port}: each part needs its own port`)
    taken.set(p.port, label)
  }

  const hosts = hostsFor(env.HOST)
  const base: Record<string, string> = {}
  const portVars = new Set(['PORT', 'GATEWAY_PORT', ...svc.map((s) => s.portVar)])
  // The reload stream exists only under `make watch`: a DX_DEV left in a shell never reaches `make start`.
  const devVars = new Set(['DX_DEV', 'DX_DEV_URL', 'DX_DEV_PORT'])
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !portVars.has(k) && !devVars.has(k)) base[k] = v

  // Also in watch mode: the runner restarts a part itself when its sources change (it must
  // know when the part is healthy again, to reload the pages), and only that part.
  const command = (entry: string) => ({ cmd: node, args: ['--import', 'tsx', entry], entry })
  // make start runs the gateway's bundle (gateway/build.ts: less memory); make watch its sources.
  const gatewayCommand = watch ? command(gw.entry) : { ...gatewayBundleCommand(node), entry: gw.entry }
  const gatewayUrl = `http://${hosts.browser}:${gw.port}`
  const health = (port: number) => `http://${hosts.connect}:${port}/healthz`

  const parts: Part[] = svc.map((s) => ({
    name: s.name,
    // No watch for Python: a change to clock.py needs the next make start.
    ...(s.python ? { cmd: s.python, args: [s.entry] } : command(s.entry)),
    env: { ...base, PORT: String(s.port), DX_GATEWAY_URL: gatewayUrl },
    port: s.port,
    portVar: s.portVar,
    health: health(s.port),
  }))
  const upstreams: Record<string, string> = {}
  for (const s of svc) {
    upstreams[`${envName(s.name)}_URL`] = `http://${hosts.connect}:${s.port}`
    upstreams[`${envName(s.name)}_STANDALONE_URL`] = `http://${hosts.browser}:${s.port}`
  }
  parts.push({
    name: gw.name,
    ...gatewayCommand,
    env: { ...base, PORT: String(gw.port), ...upstreams },
    port: gw.port,
    portVar: gw.portVar,
    health: health(gw.port),
    status: gatewayStatusUrl(hosts.connect, gw.port),
  })
  let dev: Plan['dev']
  if (watch) {
    const set = readPort(env, 'DX_DEV_PORT')
    const port = set ?? 4090
    const other = taken.get(port)
    if (other) throw new PlanError(`${other} and DX_DEV_PORT${set === undefined ? ' (default)' : ''} both give port ${port}: each part needs its own port`)
    dev = { port, portVar: 'DX_DEV_PORT', url: `http://${hosts.browser}:${port}` }
    for (const p of parts) Object.assign(p.env, { DX_DEV: '1', DX_DEV_URL: dev.url })
    parts.push({
      name: 'css',
      cmd: tailwind,
      args: ['-i', 'packages/ui/src/app.css', '-o', 'packages/ui/dist/app.css', '--watch=always'],
      env: base,
    })
  }

  const urls = [
    { label: 'main app', url: gatewayUrl },
    ...svc.map((s) => ({ label: `${s.name} standalone`, url: `http://${hosts.browser}:${s.port}` })),
    { label: 'gateway health', url: `${gatewayUrl}/healthz` },
  ]
  return { parts, urls, listenHost: hosts.listen, notes, dev }
}
