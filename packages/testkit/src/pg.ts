import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { needsDatabase } from './needs.js'

/**
 * PostgreSQL for tests: `DX_TEST_DATABASE_URL` (e.g. postgres://postgres@127.0.0.1:5432/test).
 * Every place is a schema of its own, `dx_test_<random>`, dropped after, so runs (and
 * tests) never see each other's rows.
 */

export const testDatabaseUrl = process.env.DX_TEST_DATABASE_URL?.trim() || undefined

/**
 * Why PostgreSQL tests are skipped, or false (needsDatabase: under DX_REQUIRE_SERVICES=1
 * an unset DX_TEST_DATABASE_URL throws instead, so CI cannot pass by skipping them).
 */
export const pgSkip = () => needsDatabase()

/** Runs `sql` on a connection of its own to the test database, with `search_path` = `schema` when given. */
export async function pgExec<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = [], schema?: string) {
  if (!testDatabaseUrl) throw new Error(pgSkip() || 'no test database')
  const client = new pg.Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 5000, query_timeout: 10_000, options: schema ? `-c search_path=${schema}` : undefined })
  await client.connect()
  try {
    return await client.query<R>(sql, params)
  } finally {
    await client.end()
  }
}

export type TestSchema = { url: string; schema: string; drop: () => Promise<void> }

/** A fresh, empty schema in the test database. */
export async function createTestSchema(): Promise<TestSchema> {
  const schema = `dx_test_${randomBytes(6).toString('hex')}`
  await pgExec(`create schema ${schema}`)
  return { url: testDatabaseUrl!, schema, drop: () => pgExec(`drop schema if exists ${schema} cascade`).then(() => {}) }
}

/** Where a store under test keeps its data: what `openStore` of a service takes. */
export type StorePlace = { databaseUrl?: string; schema?: string; file: string; cleanup: () => Promise<void> }

export type StoreBackend = { name: 'sqlite' | 'postgres'; skip: string | false; place: () => Promise<StorePlace> }

/** The two backends every store contract runs against: a temporary SQLite file and a PostgreSQL schema. */
export function storeBackends(prefix: string): StoreBackend[] {
  return [
    {
      name: 'sqlite',
      skip: false,
      place: async () => {
        const dir = mkdtempSync(join(tmpdir(), `dx-${prefix}-`))
        return { file: join(dir, `${prefix}.db`), cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
      },
    },
    {
      name: 'postgres',
      skip: pgSkip(),
      place: async () => {
        const s = await createTestSchema()
        return { databaseUrl: s.url, schema: s.schema, file: '(unused)', cleanup: s.drop }
      },
    },
  ]
}

/**
 * A TCP relay in front of the test database, so a test can take the server away from a
 * store: `cut()` drops every connection and refuses new ones, as a server that went down.
 */
export async function pgRelay(port = 0): Promise<{ url: string; cut: () => Promise<void> }> {
  const target = new URL(testDatabaseUrl!)
  const sockets = new Set<Socket>()
  const track = (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s)), s.on('error', () => s.destroy()))
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port: Number(target.port || 5432) })
    track(inbound)
    track(outbound)
    inbound.pipe(outbound).pipe(inbound)
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String((server.address() as { port: number }).port)
  return {
    url: url.toString(),
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}
