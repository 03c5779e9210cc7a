// Closed-loop HTTP load for benchmarks: `wrk` when it is on PATH (apt-get install wrk),
// else a Node client with the same number of keep-alive connections. Either way a run
// with any answer other than 2xx, or any socket error, throws: error pages are fast, and
// their figures would say nothing about the page.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { Pool } from 'undici'
import { quantile } from '@dx/testkit'

export type LoadRun = { rps: number; meanMs: number; p99Ms: number; requests: number }

export const loadTool = spawnSync('sh', ['-c', 'command -v wrk']).status === 0 ? 'wrk' : 'node'

export function load(url: string, connections: number, seconds: number): Promise<LoadRun> {
  return loadTool === 'wrk' ? wrk(url, connections, seconds) : nodeLoad(url, connections, seconds)
}

const toMs = (value: string, unit: string) => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1)

// Asynchronous: servers of this process must keep answering meanwhile.
async function wrk(url: string, connections: number, seconds: number): Promise<LoadRun> {
  const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', url]
  const { stdout: out } = await promisify(execFile)('wrk', args, { encoding: 'utf8' })
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  if (bad) throw new Error(`${bad[1]} answers from ${url} were not 2xx:\n${out}`)
  const errors = /Socket errors: (.*)/.exec(out)
  if (errors) throw new Error(`socket errors against ${url} (${errors[1]}):\n${out}`)
  const mean = /Latency\s+([\d.]+)(us|ms|s)\s/.exec(out)
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
  const requests = /(\d+) requests in/.exec(out)
  if (!mean || !p99 || !rps || !requests) throw new Error(`unexpected wrk output:\n${out}`)
  return { rps: Number(rps[1]), meanMs: toMs(mean[1], mean[2]), p99Ms: toMs(p99[1], p99[2]), requests: Number(requests[1]) }
}

async function nodeLoad(url: string, connections: number, seconds: number): Promise<LoadRun> {
  const u = new URL(url)
  const pool = new Pool(u.origin, { connections })
  const latencies: number[] = []
  const started = performance.now()
  const until = started + seconds * 1000
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now()
          const r = await pool.request({ method: 'GET', path: u.pathname + u.search })
          await r.body.text()
          if (r.statusCode < 200 || r.statusCode > 299) throw new Error(`${url} answered ${r.statusCode}`)
          latencies.push(performance.now() - t0)
        }
      }),
    )
  } finally {
    await pool.close()
  }
  const elapsed = (performance.now() - started) / 1000
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length
  return { rps: latencies.length / elapsed, meanMs: mean, p99Ms: quantile(latencies, 0.99), requests: latencies.length }
}
