// What `make start-cluster` runs: two gateways and two replicas of each service, all on
// one NATS bus and one PostgreSQL database, plus a NATS server of its own when it can
// start one. Pure, like planRun: the facts about the machine (is nats-server on PATH, is
// the NATS port free) come in as arguments, so every branch can be tested.
import { join } from 'node:path'
import { envName, gatewayBundleCommand, gatewayStatusUrl, hostsFor, PlanError, readPort, services, type Env, type Part, type Plan, type PlanOptions } from './plan.js'

/** The second replica of a service listens this far above the first (4001 → 4011). */
export const REPLICA_OFFSET = 10
/** The second gateway listens right above the first (4040 → 4041). */
export const GATEWAY_OFFSET = 1
export const DEFAULT_BUS = 'nats://127.0.0.1:4222'
export const DATABASE_EXAMPLE = 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make start-cluster'

export type NatsFacts = {
  /** Where nats-server is on PATH, if it is. */
  natsServer?: string
  /** Whether the bus's port is free on 127.0.0.1 (only asked for a bus on this machine). */
  portFree: boolean
}

export type ClusterOptions = PlanOptions & { nats: NatsFacts; runDir?: string }

export type BusTarget = { url: string; port: number; local: boolean }

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** DX_BUS as the cluster reads it: a single `nats://` server, by default the local one. */
export function busTarget(env: Env): BusTarget {
  const url = (env.DX_BUS ?? '').trim() || DEFAULT_BUS
  // Several servers (a NATS cluster of the user's own): used as given, never started here.
  if (url.includes(',')) return { url, port: 0, local: false }
  if (!url.startsWith('nats://')) {
    throw new PlanError(`DX_BUS=${JSON.stringify(url)}: a cluster needs a NATS bus, nats://host:port (default ${DEFAULT_BUS}); "memory" serves one process only`)
  }
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new PlanError(`DX_BUS=${JSON.stringify(url)} is not a URL: expected nats://host:port (default ${DEFAULT_BUS})`)
  }
  return { url, port: u.port ? Number(u.port) : 4222, local: LOOPBACK.has(u.hostname) }
}

function databaseUrl(env: Env): string {
  const url = (env.DATABASE_URL ?? '').trim()
  if (!url) throw new PlanError(`make start-cluster needs PostgreSQL: set DATABASE_URL, e.g. ${DATABASE_EXAMPLE}`)
  if (!/^postgres(ql)?:\/\//.test(url)) throw new PlanError(`DATABASE_URL must be a postgres:// URL, e.g. ${DATABASE_EXAMPLE}`)
  return url
}

/**
 * Everything of the user's environment except the port variables, which mean something
 * else per child, and make watch's reload stream, which a cluster does not run.
 */
function baseEnv(env: Env): Record<string, string> {
  const dropped = new Set(['PORT', 'GATEWAY_PORT', ...services.map((s) => `${envName(s.name)}_PORT`), 'DX_DEV', 'DX_DEV_URL', 'DX_DEV_PORT'])
  const base: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !dropped.has(k)) base[k] = v
  return base
}

/** The NATS part, or a note on which NATS is used instead (or why none can be). */
function natsPart(bus: BusTarget, facts: NatsFacts, base: Record<string, string>, runDir: string): { part?: Part; note: string } {
  if (!bus.local) return { note: `using NATS at ${bus.url}` }
  if (!facts.portFree) return { note: `something listens on port ${bus.port} already: using NATS at ${bus.url}` }
  if (!facts.natsServer) {
    throw new PlanError(
      `nothing listens on port ${bus.port} and nats-server is not on PATH: install it (apt-get install nats-server), start a NATS server there, or set DX_BUS to one`,
    )
  }
  const store = join(runDir, 'nats')
  return {
    part: {
      name: 'nats',
      cmd: facts.natsServer,
      args: ['-a', '127.0.0.1', '-p', String(bus.port), '-js', '-sd', store],
      env: base,
      port: bus.port,
      portVar: 'DX_BUS',
    },
    note: `starting nats-server on 127.0.0.1:${bus.port} (JetStream store in ${store})`,
  }
}

export function planCluster(env: Env, opts: ClusterOptions): Plan {
  const { node = 'node', runDir = '.dx' } = opts
  const databaseURL = databaseUrl(env)
  const bus = busTarget(env)
  const hosts = hostsFor(env.HOST)
  const base = baseEnv(env)
  const notes: string[] = []

  let gwPort = readPort(env, 'GATEWAY_PORT')
  let gwVar = 'GATEWAY_PORT'
  if (gwPort === undefined && readPort(env, 'PORT') !== undefined) {
    gwPort = readPort(env, 'PORT')
    gwVar = 'PORT'
  }
  const gateways = [0, GATEWAY_OFFSET].map((off, i) => ({ name: `gateway-${i + 1}`, port: (gwPort ?? 4040) + off, portVar: gwVar }))
  const replicas = services.flatMap((s) => {
    const portVar = `${envName(s.name)}_PORT`
    const first = readPort(env, portVar) ?? s.port
    return [0, REPLICA_OFFSET].map((off, i) => ({ service: s, name: `${s.name}-${i + 1}`, port: first + off, portVar }))
  })

  const taken = new Map<number, string>()
  if (bus.local) taken.set(bus.port, 'DX_BUS')
  for (const p of [...gateways, ...replicas]) {
    if (p.port > 65535) throw new PlanError(`${p.portVar} leaves ${p.name} no port: it would be ${p.port}`)
    const other = taken.get(p.port)
    if (other) throw new PlanError(`${p.name} (from ${p.portVar}) and ${other} both want port ${p.port}: each part needs its own port`)
    taken.set(p.port, `${p.name} (from ${p.portVar})`)
  }

  const command = (entry: string) => ({ cmd: node, args: ['--import', 'tsx', entry] })
  const health = (port: number) => `http://${hosts.connect}:${port}/healthz`
  const browserUrl = (port: number) => `http://${hosts.browser}:${port}`
  const mainUrl = browserUrl(gateways[0].port)
  // Pages of the second gateway write to the services and open their sockets too.
  const allowed = [env.DX_ALLOWED_ORIGINS, browserUrl(gateways[1].port)].filter(Boolean).join(',')

  const parts: Part[] = []
  const nats = natsPart(bus, opts.nats, base, runDir)
  notes.push(nats.note)
  if (nats.part) parts.push(nats.part)

  for (const r of replicas) {
    const dbVar = `${envName(r.service.name)}_DATABASE_URL`
    parts.push({
      name: r.name,
      ...command(r.service.entry),
      env: {
        ...base,
        PORT: String(r.port),
        DX_BUS: bus.url,
        [dbVar]: env[dbVar] || databaseURL,
        DX_GATEWAY_URL: mainUrl,
        DX_ALLOWED_ORIGINS: allowed,
      },
      port: r.port,
      portVar: r.portVar,
      health: health(r.port),
    })
  }
  const upstreams: Record<string, string> = {}
  for (const s of services) {
    const mine = replicas.filter((r) => r.service === s)
    upstreams[`${envName(s.name)}_URL`] = mine.map((r) => `http://${hosts.connect}:${r.port}`).join(',')
    upstreams[`${envName(s.name)}_STANDALONE_URL`] = browserUrl(mine[0].port)
  }
  for (const g of gateways) {
    parts.push({
      name: g.name,
      ...gatewayBundleCommand(node),
      env: { ...base, PORT: String(g.port), DX_BUS: bus.url, ...upstreams },
      port: g.port,
      portVar: g.portVar,
      health: health(g.port),
      status: gatewayStatusUrl(hosts.connect, g.port),
    })
  }

  const urls = [
    ...gateways.map((g, i) => ({ label: `main app, gateway ${i + 1}`, url: browserUrl(g.port) })),
    ...services.map((s) => ({
      label: `${s.name} replicas`,
      url: replicas.filter((r) => r.service === s).map((r) => browserUrl(r.port)).join('  '),
    })),
    { label: 'status', url: `${mainUrl}/_dx/status` },
  ]
  return { parts, urls, listenHost: hosts.listen, notes }
}
