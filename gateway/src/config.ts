import { readFileSync } from 'node:fs'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'

const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s)
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && !u.search
    } catch {
      return false
    }
  },
  { message: 'expected an http:// or https:// URL with no path, like "http://127.0.0.1:4001"' },
)

const ms = (max: number) => z.number().int().min(1).max(max)

const serviceSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a lowercase name like "todo" (a-z, 0-9, -)'),
  title: z.string().min(1).optional(),
  /** Defaults to `/NAME`. */
  prefix: z.string().regex(/^\/[a-z0-9-]+$/, 'expected one path segment like "/todo"').optional(),
  upstreams: z.array(httpUrl),
  /** Where the widget fragment is; defaults to the prefix. */
  widget: z.string().startsWith('/', 'expected a path starting with "/"').optional(),
  standalone_url: httpUrl.optional(),
  /** Left out unless its NAME_URL is set: a service whose runtime may be missing (examples/python-clock). */
  optional: z.boolean().default(false),
  connect_timeout_ms: ms(60_000).default(1000),
  response_timeout_ms: ms(600_000).default(5000),
  body_idle_timeout_ms: ms(600_000).default(10_000),
  /** How long `GET /` waits for this widget before leaving it to the browser. */
  compose_budget_ms: ms(60_000).default(300),
  /** Open connections to each replica at most; more requests queue within connect_timeout_ms. */
  max_connections: z.number().int().min(1).max(65_536).default(512),
})

const gatewaySchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(4040),
  body_limit_bytes: z.number().int().min(1).default(1024 * 1024),
  /** All request bodies being read at once share this much memory; past it, 503. */
  body_buffer_total_bytes: z.number().int().min(1).default(64 * 1024 * 1024),
  /** Trust X-Forwarded-* from the client: only behind a proxy of your own. */
  trust_forwarded: z.boolean().default(false),
  client_header_timeout_ms: ms(600_000).default(10_000),
  client_body_timeout_ms: ms(3_600_000).default(60_000),
  /** Each replica's GET /healthz is probed this often. */
  /** 0 turns probing off: every replica counts as up, for a checker of your own in front. */
  health_interval_ms: z.number().int().min(0).max(600_000).default(2000),
})

const schema = z.strictObject({
  gateway: gatewaySchema.default(gatewaySchema.parse({})),
  services: z.array(serviceSchema).min(1, 'expected at least one [[services]] entry'),
})

export type ServiceConfig = {
  name: string
  title: string
  prefix: string
  upstreams: URL[]
  widget: string
  standaloneUrl?: string
  /** TCP connect, including the wait for a free pooled socket. */
  connectTimeoutMs: number
  /** From sending the request to the response headers (and a WebSocket handshake). */
  responseTimeoutMs: number
  /** Longest pause while a response body streams, in either direction. */
  bodyIdleTimeoutMs: number
  maxConnections: number
  /** How long the composed main page waits for this widget before leaving it to the browser. */
  composeBudgetMs: number
}

export type GatewayConfig = {
  port: number
  host: string
  bodyLimitBytes: number
  bodyBufferTotalBytes: number
  trustForwarded: boolean
  /** Receiving a request's headers from the client. */
  clientHeaderTimeoutMs: number
  /** Receiving a whole request, body included, from the client. */
  clientBodyTimeoutMs: number
  /** How often each replica's `GET /healthz` is probed. */
  healthIntervalMs: number
  /** DX_EVENT_SECRET: signs and checks events; without it no event reaches a service. */
  eventSecret?: string
  services: ServiceConfig[]
}

export class ConfigError extends Error {}

function where(path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
    '',
  )
}

/** `SERVICE_URL` for a service name: `todo` → `TODO_URL`, `my-svc` → `MY_SVC_URL`. */
export const envVarFor = (name: string, suffix = 'URL') => `${name.toUpperCase().replace(/-/g, '_')}_${suffix}`

/**
 * Parses and validates a config file's text. Every problem is reported as
 * `file: field: what was expected`, so a typo never starts a half-working gateway.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (e) {
    throw new ConfigError(`${file}: not valid TOML: ${(e as Error).message.split('\n')[0]}`)
  }
  const result = schema.safeParse(raw)
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const field = where(i.path)
      const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message
      return `${file}: ${field || '(top level)'}: ${msg}`
    })
    throw new ConfigError(lines.join('\n'))
  }
  const cfg = result.data
  const seen = new Set<string>()
  const services = cfg.services.map((s, i): ServiceConfig => {
    const prefix = s.prefix ?? `/${s.name}`
    if (prefix === '/_dx' || prefix === '/assets' || prefix === '/metrics' || prefix === '/healthz') {
      throw new ConfigError(`${file}: services[${i}].prefix: "${prefix}" is reserved by the gateway`)
    }
    if (seen.has(prefix)) throw new ConfigError(`${file}: services[${i}].prefix: "${prefix}" is used twice`)
    seen.add(prefix)
    const fromEnv = env[envVarFor(s.name)]
    const upstreams = fromEnv === undefined ? s.upstreams : parseUpstreamList(fromEnv, envVarFor(s.name))
    const standaloneVar = envVarFor(s.name, 'STANDALONE_URL')
    const standaloneUrl = env[standaloneVar] ? checkedUrl(env[standaloneVar]!, standaloneVar) : s.standalone_url
    return {
      name: s.name,
      title: s.title ?? s.name[0].toUpperCase() + s.name.slice(1),
      prefix,
      upstreams: upstreams.map((u) => new URL(u)),
      widget: s.widget ?? prefix,
      standaloneUrl,
      connectTimeoutMs: s.connect_timeout_ms,
      responseTimeoutMs: s.response_timeout_ms,
      bodyIdleTimeoutMs: s.body_idle_timeout_ms,
      maxConnections: s.max_connections,
      composeBudgetMs: s.compose_budget_ms,
    }
  })
  // An optional service is started only where its runtime exists (make start sets its
  // NAME_URL then): without it, the page shows no slot for something nobody started.
  const skipped = new Set(cfg.services.filter((s) => s.optional && !env[envVarFor(s.name)]).map((s) => s.name))
  let port = cfg.gateway.port
  if (env.PORT !== undefined) {
    port = Number(env.PORT)
    if (!/^\d+$/.test(env.PORT) || port > 65535) throw new ConfigError(`env PORT: expected a port number 0-65535, got "${env.PORT}"`)
  }
  const g = cfg.gateway
  return {
    port,
    host: env.HOST || '127.0.0.1',
    bodyLimitBytes: g.body_limit_bytes,
    bodyBufferTotalBytes: Math.max(g.body_buffer_total_bytes, g.body_limit_bytes),
    trustForwarded: g.trust_forwarded,
    clientHeaderTimeoutMs: g.client_header_timeout_ms,
    clientBodyTimeoutMs: g.client_body_timeout_ms,
    healthIntervalMs: g.health_interval_ms,
    eventSecret: env.DX_EVENT_SECRET || undefined,
    services: services.filter((s) => !skipped.has(s.name)),
  }
}

function checkedUrl(value: string, varName: string): string {
  const r = httpUrl.safeParse(value)
  if (!r.success) throw new ConfigError(`env ${varName}: "${value}": ${r.error.issues[0].message}`)
  return value
}

function parseUpstreamList(value: string, varName: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((u) => checkedUrl(u, varName))
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(`${file}: cannot read config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  return parseConfig(text, file, env)
}
