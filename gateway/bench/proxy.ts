// Proxy overhead, side by side with NGINX: the same small GET direct to an upstream,
// through the gateway, through a bare proxy in Node (lib/bare-proxy.ts: the floor for any
// Node proxy on this machine) and, when `nginx` is on PATH, through NGINX (one worker,
// upstream keepalive), in rotated rounds. Load comes from `wrk` when it is on PATH (apt-get install
// wrk nginx-light), else from a Node client. Prints requests/s, latency, CPU per request,
// the latency added at one connection, the gateway's memory, and each ratio to NGINX with
// its min–max over the rounds.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, createServer, request } from 'node:http'
import { tmpdir } from 'node:os'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { securityHeaders } from '@dx/kit'
import { cpuMs, freePort, Proc, quantile, sleep, waitForOk } from '@dx/testkit'
import { buildGateway, bundlePath, nodeFlags } from '../build.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const connections = Number(process.env.BENCH_CONCURRENCY ?? 64)
const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3))
const body = '<div class="dx-widget">' + 'x'.repeat(2000) + '</div>'
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const useWrk = has('wrk')

// A distributex service as far as the gateway's health checks go, so it gets the traffic,
// and its HTML carries the security headers every service sends (packages/kit), so both
// proxies pass the same response on.
const manifest = JSON.stringify({ name: 'svc', prefix: '/svc', widget: '/svc', subscribes: [] })
const page = { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'x-content-type-options': 'nosniff', ...securityHeaders() }
const upstream = createServer((req, res) => {
  if (req.url === '/_dx/manifest') return void res.writeHead(200, { 'content-type': 'application/json' }).end(manifest)
  if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
  res.writeHead(200, page).end(body)
})
const upPort = await freePort()
await new Promise<void>((r) => upstream.listen(upPort, '127.0.0.1', r))

const dir = mkdtempSync(join(tmpdir(), 'dx-bench-'))
writeFileSync(join(dir, 'gw.toml'), `[[services]]\nname = "svc"\nupstreams = ["http://127.0.0.1:${upPort}"]\n`)
// The gateway as make start and the Docker image run it: its bundle, with their flags.
await buildGateway()
const gw = await new Proc({ name: 'gateway', entry: bundlePath, nodeFlags, port: await freePort(), env: { DX_CONFIG: join(dir, 'gw.toml') } }).start()

type Target = { name: string; port: number; pid?: number }
const targets: Target[] = [
  { name: 'direct', port: upPort },
  { name: 'gateway', port: gw.opts.port, pid: gw.child!.pid },
]
const barePort = await freePort()
const bare = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', fileURLToPath(new URL('./lib/bare-proxy.ts', import.meta.url)), String(barePort), String(upPort)], { stdio: 'inherit' })
await waitForOk(`http://127.0.0.1:${barePort}/svc/widget`)
targets.push({ name: 'bare', port: barePort, pid: bare.pid })
let nginx: ChildProcess | undefined
if (has('nginx')) {
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d))
  // One process (master_process off) so that its CPU time is easy to read.
  writeFileSync(
    conf,
    `master_process off; daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream svc { server 127.0.0.1:${upPort}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://svc; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
`,
  )
  nginx = spawn('nginx', ['-p', dir, '-c', conf], { stdio: 'ignore' })
  await waitForOk(`http://127.0.0.1:${port}/svc/widget`)
  targets.push({ name: 'nginx', port, pid: nginx.pid })
} else {
  console.log('nginx is not on PATH: no NGINX comparison (apt-get install nginx-light)')
}
if (!useWrk) console.log('wrk is not on PATH: load from a Node client instead (apt-get install wrk)')

type Run = { rps: number; p50: number; p99: number; cpuUs?: number }

/** One load run: requests/s, latency in ms, and the target's CPU time per request. */
async function load(t: Target, conns: number, secs: number): Promise<Run> {
  const cpu0 = t.pid ? cpuMs(t.pid) : 0
  const r = useWrk ? await wrk(t.port, conns, secs) : await nodeLoad(t.port, conns, secs)
  const cpuUs = t.pid ? ((cpuMs(t.pid) - cpu0) * 1000) / (r.rps * secs) : undefined
  return { ...r, cpuUs }
}

// Asynchronous: the upstream lives in this process and must keep answering meanwhile.
async function wrk(port: number, conns: number, secs: number): Promise<Omit<Run, 'cpuUs'>> {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', `http://127.0.0.1:${port}/svc/widget`], { encoding: 'utf8' })
  // Error pages are fast too: a run that got any is not a measurement of proxying.
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  if (bad) throw new Error(`${bad[1]} answers on port ${port} were not 2xx: the figures would be wrong`)
  const ms = (label: string) => {
    const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) return NaN
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
  }
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50: ms('50%'), p99: ms('99%') }
}

async function nodeLoad(port: number, conns: number, secs: number): Promise<Omit<Run, 'cpuUs'>> {
  const agent = new Agent({ keepAlive: true, maxSockets: conns })
  const latencies: number[] = []
  const until = Date.now() + secs * 1000
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now()
      request({ host: '127.0.0.1', port, path: '/svc/widget', agent }, (res) => {
        res.resume()
        res.on('end', () => {
          latencies.push(performance.now() - t0)
          resolve()
        })
      })
        .on('error', reject)
        .end()
    })
  await Promise.all(Array.from({ length: conns }, async () => {
    while (Date.now() < until) await one()
  }))
  agent.destroy()
  return { rps: latencies.length / secs, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }
}

const rssMb = (pid: number, field = 'VmRSS') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
const median = (xs: number[]) => quantile(xs, 0.5)
const f1 = (n: number) => n.toFixed(1)
const f2 = (n: number) => n.toFixed(2)

await sleep(2500) // the gateway's first health probe has found the upstream up
for (const t of targets) await load(t, connections, 1) // warm-up: JIT, pools, keep-alive

const results = new Map<string, Run[]>(targets.map((t) => [t.name, []]))
for (let round = 0; round < rounds; round++) {
  // Rotated so that no target always runs first, or always right after another.
  const order = targets.map((_, i) => targets[(i + round) % targets.length])
  for (const t of order) results.get(t.name)!.push(await load(t, connections, seconds))
  await sleep(200)
}
const single = new Map<string, number[]>(targets.map((t) => [t.name, []]))
for (let round = 0; round < rounds; round++) {
  for (const t of targets.map((_, i) => targets[(i + round) % targets.length])) single.get(t.name)!.push((await load(t, 1, 2)).p50)
}

console.log(`\n${rounds} rounds of ${seconds} s at ${connections} connections (${useWrk ? 'wrk' : 'Node client'}), ${body.length}-byte response; medians [min–max]`)
for (const t of targets) {
  const runs = results.get(t.name)!
  const rps = runs.map((r) => r.rps)
  const cpu = runs.map((r) => r.cpuUs).filter((x): x is number => x !== undefined)
  console.log(
    `${t.name.padEnd(8)}: ${Math.round(median(rps))} req/s [${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))}], ` +
      `p50 ${f2(median(runs.map((r) => r.p50)))} ms, p99 ${f2(median(runs.map((r) => r.p99)))} ms` +
      (cpu.length ? `, CPU ${f1(median(cpu))} µs/request [${f1(Math.min(...cpu))}–${f1(Math.max(...cpu))}]` : ''),
  )
}
const directP50 = single.get('direct')!
for (const t of targets.filter((t) => t.name !== 'direct')) {
  const added = single.get(t.name)!.map((p, i) => (p - directP50[i]) * 1000)
  const goal = t.name === 'gateway' ? ' (goal ≤ 80 µs)' : ''
  console.log(`${t.name.padEnd(8)}: adds ${Math.round(median(added))} µs at p50 with 1 connection [${Math.round(Math.min(...added))}–${Math.round(Math.max(...added))}]${goal}`)
}
console.log(`gateway : RSS ${f1(rssMb(gw.child!.pid!))} MB now, peak ${f1(rssMb(gw.child!.pid!, 'VmHWM'))} MB (goal ≤ 100 MB)`)

if (nginx) {
  const ratio = (pick: (r: Run) => number | undefined) => {
    const g = results.get('gateway')!
    const n = results.get('nginx')!
    return g.map((r, i) => (pick(r) ?? NaN) / (pick(n[i]) ?? NaN))
  }
  const show = (label: string, xs: number[], goal: string) =>
    console.log(`${label}: ${f2(median(xs))}× [${f2(Math.min(...xs))}–${f2(Math.max(...xs))}] (goal ${goal})`)
  show('gateway/nginx req/s      ', ratio((r) => r.rps), '≥ 0.45×')
  show('gateway/nginx CPU/request', ratio((r) => r.cpuUs), '≤ 3×')
  nginx.kill('SIGQUIT')
}

bare.kill()
await gw.stop()
upstream.close()
