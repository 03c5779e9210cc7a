import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runId } from './needs.js'
import { freePort, Proc, sleep } from './procs.js'

/**
 * A cluster as `make start-cluster` runs one, for tests: two gateways, two chat and two
 * todo replicas on one NATS and one PostgreSQL. Each run has its own subject prefix
 * (`DX_BUS_PREFIX`) and its own schema, so that runs sharing a NATS server and a database
 * never see each other's events or rows.
 */
export type Cluster = {
  gateways: [Proc, Proc]
  chat: [Proc, Proc]
  todo: [Proc, Proc]
  /** Every process: gateways first. */
  all: Proc[]
  prefix: string
  schema: string
  /** What the services are given: the database URL with the run's schema as search_path. */
  databaseUrl: string
  /** Stops every process, drops the schema, removes the temporary files. */
  stop: () => Promise<void>
}

export type ClusterOptions = {
  natsUrl: string
  databaseUrl: string
  /** Default: a fresh runId(). */
  prefix?: string
  /** Default: the prefix. Created here, and dropped by stop(). */
  schema?: string
  /** To every process. */
  env?: Record<string, string>
}

/** Runs one statement on a connection of its own: schemas are made and dropped outside the services. */
async function exec(databaseUrl: string, sql: string) {
  // Loaded here: a test that never starts a cluster does not need the driver.
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000, query_timeout: 10_000 })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** The database URL whose connections use `schema` (node-postgres reads `options` from the URL). */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const u = new URL(databaseUrl)
  u.searchParams.set('options', `-c search_path=${schema}`)
  return u.href
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/

/** Creates `schema` (a runId()) in the database at `databaseUrl`; returns the function that drops it. */
export async function createSchema(databaseUrl: string, schema: string): Promise<() => Promise<void>> {
  if (!SCHEMA.test(schema)) throw new Error(`schema ${JSON.stringify(schema)}: expected lowercase letters, digits and _`)
  await exec(databaseUrl, `create schema ${schema}`)
  return () => exec(databaseUrl, `drop schema if exists ${schema} cascade`)
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const prefix = opts.prefix ?? runId()
  const schema = opts.schema ?? prefix
  const dropSchema = await createSchema(opts.databaseUrl, schema)
  const databaseUrl = withSearchPath(opts.databaseUrl, schema)
  const dir = mkdtempSync(join(tmpdir(), 'dx-cluster-'))
  const port = () => freePort()
  const ports = {
    gateways: [await port(), await port()],
    todo: [await port(), await port()],
    chat: [await port(), await port()],
    // No news in these clusters: its slot points at a port nothing listens on.
    news: await port(),
  }
  const url = (p: number) => `http://127.0.0.1:${p}`
  const common = {
    DX_EVENT_SECRET: randomBytes(16).toString('hex'),
    ...opts.env,
    DX_BUS: opts.natsUrl,
    DX_BUS_PREFIX: prefix,
  }
  const service = (name: 'todo' | 'chat', i: number) =>
    new Proc({
      name: `${name}-${i + 1}`,
      entry: `services/${name}/src/main.ts`,
      port: ports[name][i],
      env: {
        ...common,
        [`${name.toUpperCase()}_DATABASE_URL`]: databaseUrl,
        // Used only by a service that keeps no data in PostgreSQL yet; one file per replica.
        [`${name.toUpperCase()}_DB`]: join(dir, `${name}-${i + 1}.db`),
        DX_GATEWAY_URL: url(ports.gateways[0]),
        DX_ALLOWED_ORIGINS: url(ports.gateways[1]),
      },
    })
  const gateway = (i: number) =>
    new Proc({
      name: `gateway-${i + 1}`,
      entry: 'gateway/src/main.ts',
      port: ports.gateways[i],
      env: {
        ...common,
        TODO_URL: ports.todo.map(url).join(','),
        CHAT_URL: ports.chat.map(url).join(','),
        NEWS_URL: url(ports.news),
        TODO_STANDALONE_URL: url(ports.todo[0]),
        CHAT_STANDALONE_URL: url(ports.chat[0]),
        NEWS_STANDALONE_URL: url(ports.news),
      },
    })

  const todo = [service('todo', 0), service('todo', 1)] as [Proc, Proc]
  const chat = [service('chat', 0), service('chat', 1)] as [Proc, Proc]
  const gateways = [gateway(0), gateway(1)] as [Proc, Proc]
  const all = [...gateways, ...todo, ...chat]
  const stop = async () => {
    await Promise.all(all.map((p) => p.stop()))
    rmSync(dir, { recursive: true, force: true })
    await dropSchema().catch(() => {})
  }
  try {
    // Replicas of one service one after the other: the first migrates the schema.
    await Promise.all([todo[0].start().then(() => todo[1].start()), chat[0].start().then(() => chat[1].start())])
    await Promise.all(gateways.map((g) => g.start()))
  } catch (e) {
    await stop()
    throw e
  }
  const cluster = { gateways, chat, todo, all, prefix, schema, databaseUrl, stop }
  try {
    await clusterReady(cluster)
  } catch (e) {
    await stop()
    throw e
  }
  return cluster
}

type Status = { services: { name: string; subscribes: string[]; replicas: { url: string; health: string }[] }[] }

/**
 * Resolves once every gateway sees every replica of todo and chat up and knows what chat
 * subscribes to: before that a request may find no replica, and an event no subscriber.
 */
export async function clusterReady(c: Pick<Cluster, 'gateways'>, timeoutMs = 30_000): Promise<void> {
  let last = ''
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(200)) {
    const views = await Promise.all(
      c.gateways.map(async (g) => {
        try {
          const r = await fetch(`${g.url}/_dx/status.json`, { signal: AbortSignal.timeout(2000) })
          return (await r.json()) as Status
        } catch (e) {
          return `${g.opts.name}: ${(e as Error).message}`
        }
      }),
    )
    const problems = views.flatMap((v, i) => {
      if (typeof v === 'string') return [v]
      const name = c.gateways[i].opts.name
      return v.services
        .filter((s) => s.name === 'todo' || s.name === 'chat')
        .flatMap((s) => [
          ...s.replicas.filter((r) => r.health !== 'up').map((r) => `${name} sees ${s.name} at ${r.url} ${r.health}`),
          ...(s.name === 'chat' && !s.subscribes.includes('todo:added') ? [`${name} does not know chat's subscriptions yet`] : []),
        ])
    })
    if (problems.length === 0) return
    last = problems.join('; ')
  }
  throw new Error(`the cluster was not ready within ${timeoutMs} ms: ${last}`)
}
