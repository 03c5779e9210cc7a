// dx-check: checks a running service against the distributex protocol. Usage below; exit 0
// when every check passed or was skipped, 1 on any failure, 2 on bad usage.
import { runChecks, type Result } from './checks.js'

export const USAGE = `usage: dx-check [--secret SECRET] [--timeout MS] [--post PATH]... <url>

Checks the service running at <url> (its own port, e.g. http://127.0.0.1:4004) against
the distributex protocol (docs/protocol.md), one line per check.
  --secret SECRET  the service's DX_EVENT_SECRET (default: env DX_EVENT_SECRET), to check
                   that signed events are accepted; without it those checks are skipped
  --timeout MS     deadline for each request (default 5000)
  --post PATH      also POST to PATH (a write, so only when you allow it) and expect an
                   HX-Trigger header in the answer, e.g. --post /clock/tick
Exit status: 0 all passed (or skipped), 1 a check failed, 2 bad usage.`

export type Args = { url: string; secret?: string; timeoutMs: number; post: string[] }

export class UsageError extends Error {}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): Args | 'help' {
  let url: string | undefined
  let secret = env.DX_EVENT_SECRET || undefined
  let timeoutMs = 5000
  const post: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`${a} needs a value`)
      return v
    }
    if (a === '-h' || a === '--help') return 'help'
    else if (a === '--secret') secret = value()
    else if (a === '--timeout') {
      const v = value()
      timeoutMs = Number(v)
      if (!/^\d+$/.test(v) || timeoutMs < 1 || timeoutMs > 600_000) throw new UsageError(`--timeout: expected milliseconds from 1 to 600000, got "${v}"`)
    } else if (a === '--post') {
      const v = value()
      if (!v.startsWith('/')) throw new UsageError(`--post: expected a path starting with /, got "${v}"`)
      post.push(v)
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`)
    else if (url !== undefined) throw new UsageError(`one URL only (got ${url} and ${a})`)
    else url = a
  }
  if (url === undefined) throw new UsageError('no URL given')
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`"${url}" is not a URL`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`"${url}" is not an http(s) URL`)
  return { url: u.origin + u.pathname.replace(/\/+$/, ''), secret, timeoutMs, post }
}

const mark: Record<Result['status'], string> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }
export const formatResult = (r: Result) => `${mark[r.status]}  ${r.name}: ${r.why}`

export async function main(argv: string[]): Promise<number> {
  let args: Args | 'help'
  try {
    args = parseArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`dx-check: ${err.message}\n\n${USAGE}`)
    return 2
  }
  if (args === 'help') {
    console.log(USAGE)
    return 0
  }
  console.log(`dx-check ${args.url}`)
  const results = await runChecks(args, (r) => console.log(formatResult(r)))
  const count = (s: Result['status']) => results.filter((r) => r.status === s).length
  const failed = count('fail')
  console.log(`${failed ? 'FAILED' : 'OK'}: ${count('pass')} passed, ${failed} failed, ${count('skip')} skipped`)
  return failed ? 1 : 0
}

// Run as a program (not when a test imports it).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error('dx-check failed:', err)
      process.exitCode = 1
    },
  )
}
