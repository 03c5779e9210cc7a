import pg from 'pg'
import type { Logger } from './log.js'

/**
 * PostgreSQL for the stores, shared by every service that keeps data there. A subpath
 * export (`@dx/kit/pg`), so a process that does not use it never loads `pg`.
 *
 * Every wait is bounded: getting a connection (connect included), each statement on the
 * server, each answer on the client, and a transaction left idle. A store call therefore
 * settles, with a row or an error, within seconds even when the server hangs.
 */

export type Pool = pg.Pool
export type PoolClient = pg.PoolClient

export type PoolOptions = {
  /** postgres://user@host:port/db; may carry its own `?options=-c search_path=…`. */
  url: string
  /** Tables go in this schema (it must exist); tests give each run its own. */
  schema?: string
  /** Shown in pg_stat_activity, e.g. "dx-todo". */
  name?: string
  log: Logger
  /** Connections at most; default 10. */
  max?: number
  /** Wait for a connection from the pool, connect included; default 5 s. */
  connectMs?: number
  /** One statement, on the server and on the client; default 5 s. */
  statementMs?: number
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/

/** What the stores reach PostgreSQL through. */
export function openPool(opts: PoolOptions): Pool {
  if (opts.schema !== undefined && !SCHEMA.test(opts.schema)) throw new Error(`bad schema name ${JSON.stringify(opts.schema)}`)
  const statementMs = opts.statementMs ?? 5000
  const pool = new pg.Pool({
    connectionString: opts.url,
    application_name: opts.name,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementMs,
    lock_timeout: statementMs,
    idle_in_transaction_session_timeout: 2 * statementMs,
    // The client-side bound covers a server that stops answering without closing the socket.
    query_timeout: statementMs + 1000,
    keepAlive: true,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
  })
  // An idle connection the server closes (restart, pg_terminate_backend) is an 'error' on
  // the pool; unheard, it would end the process. The pool drops that connection by itself.
  pool.on('error', (err) => opts.log.warn('an idle PostgreSQL connection failed; the pool drops it', err))
  return pool
}

/**
 * Thrown when the connection failed while COMMIT was on its way: the server may or may not
 * have stored the write. `tryWrite` says so rather than "nothing was saved".
 */
export class CommitUnknownError extends Error {
  readonly outcomeUnknown = true
  constructor(cause: unknown) {
    super('the connection failed during COMMIT; the write may or may not be stored', { cause })
  }
}

/** A server error carries a SQLSTATE; a lost connection or a client timeout does not. */
const fromServer = (err: unknown) => typeof (err as { code?: unknown })?.code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code)

export type Durability = 'full' | 'relaxed'

/**
 * Runs `work` in a transaction on one connection and resolves only once COMMIT returned,
 * so a resolved write is stored. `full` makes the commit wait for the WAL flush whatever
 * the server's default (an acknowledged write survives a crash of the server); `relaxed`
 * does not wait (chat history: losing the last messages to a server crash is acceptable).
 * Any failure rejects; a connection that failed is destroyed, not put back in the pool.
 */
export async function transaction<T>(pool: Pool, durability: Durability, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  // A connection lost while checked out is an 'error' on the client, which the pool does
  // not hear then: unheard, it would end the process. The query in flight rejects anyway.
  const onError = (err: Error) => (broken ??= err)
  client.on('error', onError)
  try {
    await client.query(`begin; set local synchronous_commit to ${durability === 'full' ? 'on' : 'off'}`)
    let result: T
    try {
      result = await work(client)
    } catch (err) {
      await client.query('rollback').catch((e: Error) => (broken = e))
      throw err
    }
    let done: pg.QueryResult
    try {
      done = await client.query('commit')
    } catch (err) {
      if (!fromServer(err)) throw new CommitUnknownError(err)
      throw err
    }
    // COMMIT of a transaction that already failed answers ROLLBACK, not an error.
    if (done.command !== 'COMMIT') throw new Error(`COMMIT answered ${done.command}: nothing was stored`)
    return result
  } catch (err) {
    // FATAL: the server ends the session after this error, so the connection is done too.
    const severity = (err as { severity?: string })?.severity
    if (!fromServer(err) || severity === 'FATAL' || severity === 'PANIC') broken ??= err as Error
    throw err
  } finally {
    client.removeListener('error', onError)
    client.release(broken)
  }
}

/**
 * Brings the tables of `owner` (e.g. "todo") up to date: each migration not yet recorded
 * in `dx_migrations` runs, in order, in one transaction with its record. An advisory lock
 * (per schema) makes replicas that start together take turns, so each step
 * runs once. A migration is never edited once released: a change is a new one at the end.
 */
export async function migrate(pool: Pool, owner: string, migrations: readonly string[]) {
  await transaction(pool, 'full', async (client) => {
    // One lock per schema: it also covers two services creating dx_migrations at once.
    await client.query(`select pg_advisory_xact_lock(hashtext(current_schema() || ':dx_migrations'))`)
    await client.query(`create table if not exists dx_migrations (
      owner text not null,
      version integer not null,
      applied_at timestamptz not null default now(),
      primary key (owner, version)
    )`)
    const done = await client.query<{ version: number }>('select version from dx_migrations where owner = $1', [owner])
    const applied = new Set(done.rows.map((r) => r.version))
    for (const [i, sql] of migrations.entries()) {
      const version = i + 1
      if (applied.has(version)) continue
      await client.query(sql)
      await client.query('insert into dx_migrations (owner, version) values ($1, $2)', [owner, version])
    }
  })
}

/** Errors worth waiting out at start: no server yet, or one still starting up. */
const notYet = (err: unknown) => !fromServer(err) || ['57P03', '08000', '08001', '08006'].includes((err as { code: string }).code)

/**
 * The pool of a store, opened and migrated. A server that is not up yet (containers
 * starting together) is waited for, `startMs` at most (default 20 s); any other failure,
 * or still no server after that, closes the pool and rejects.
 */
export async function openMigrated(opts: PoolOptions & { owner: string; migrations: readonly string[]; startMs?: number }): Promise<Pool> {
  const pool = openPool(opts)
  const until = Date.now() + (opts.startMs ?? 20_000)
  for (;;) {
    try {
      await migrate(pool, opts.owner, opts.migrations)
      return pool
    } catch (err) {
      if (notYet(err) && Date.now() < until) {
        opts.log.warn(`PostgreSQL is not reachable yet (${(err as Error).message}); trying again`)
        await new Promise((r) => setTimeout(r, 500))
        continue
      }
      await pool.end().catch(() => {})
      throw err
    }
  }
}
