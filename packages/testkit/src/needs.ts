import { randomBytes } from 'node:crypto'
import { natsServerPath } from './nats-server.js'

/**
 * Tests that need a NATS server or PostgreSQL find them through `DX_TEST_NATS_URL` and
 * `DX_TEST_DATABASE_URL`. Unset, such tests are skipped with a reason the runner prints.
 * CI sets `DX_REQUIRE_SERVICES=1` as well: there a missing variable fails the test file
 * instead, so a CI run can never pass by skipping them.
 */

type Kind = 'nats' | 'database'

const needs: Record<Kind, { variable: string; what: string; example: string }> = {
  nats: { variable: 'DX_TEST_NATS_URL', what: 'NATS', example: 'nats://127.0.0.1:4222' },
  database: { variable: 'DX_TEST_DATABASE_URL', what: 'PostgreSQL', example: 'postgres://postgres@127.0.0.1:5432/test' },
}

export const REQUIRE_SERVICES = 'DX_REQUIRE_SERVICES'

const required = () => ['1', 'true', 'yes'].includes((process.env[REQUIRE_SERVICES] ?? '').toLowerCase())
const valueOf = (kind: Kind) => (process.env[needs[kind].variable] ?? '').trim() || undefined

/** Why tests that need `kind` are skipped here, or false; never throws. */
export function skipReason(kind: Kind): string | false {
  if (valueOf(kind)) return false
  const n = needs[kind]
  return `${n.variable} is not set (e.g. ${n.example}): tests that need ${n.what} are skipped`
}

/**
 * As skipReason, for a test's `skip` option (node:test) or `test.skip(cond, reason)`
 * (Playwright); but under DX_REQUIRE_SERVICES=1 a missing variable throws.
 */
export function needsService(kind: Kind): string | false {
  const reason = skipReason(kind)
  if (reason && required()) {
    const n = needs[kind]
    throw new Error(`${n.variable} is not set, and ${REQUIRE_SERVICES}=1 says tests that need ${n.what} must run, not be skipped: set it (e.g. ${n.example})`)
  }
  return reason
}

export const needsNats = () => needsService('nats')
export const needsDatabase = () => needsService('database')
/**
 * Tests that restart a NATS server start their own (NatsServer): they need the binary
 * as well as DX_TEST_NATS_URL, and CI must not skip them for want of it either.
 */
export function needsNatsServer(): string | false {
  const reason = needsNats()
  if (reason) return reason
  if (natsServerPath()) return false
  const why = 'no nats-server binary (not on PATH nor in /usr/sbin; set DX_TEST_NATS_SERVER)'
  if (required()) throw new Error(`${why}, and ${REQUIRE_SERVICES}=1 says tests that need it must run`)
  return `${why}: tests that restart NATS are skipped`
}
/** Both; the first reason to skip, or false. */
export const needsNatsAndDatabase = () => needsNats() || needsDatabase()

function urlOf(kind: Kind): string {
  const v = valueOf(kind)
  if (!v) throw new Error(needsService(kind) || 'unreachable')
  return v
}
/** `DX_TEST_NATS_URL`; throws (with the reason) when unset: check needsNats() first. */
export const natsTestUrl = () => urlOf('nats')
/** `DX_TEST_DATABASE_URL`; throws (with the reason) when unset: check needsDatabase() first. */
export const databaseTestUrl = () => urlOf('database')

/**
 * A name no other test run on this machine (or one sharing its NATS and PostgreSQL) uses:
 * one NATS subject token and a valid PostgreSQL schema name, e.g. `dxt_m1x2y3_9f8e7d`.
 */
export function runId(label = 'dxt'): string {
  return `${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}
