// Proxy overhead: the same small GET, direct to an upstream and through the gateway.
// Prints requests/s, latency p50/p99 and the gateway's CPU time per request.
import { createServer, Agent, request } from 'node:http'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuMs, freePort, Proc, quantile } from '@dx/testkit'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32)
const body = '<div class="dx-widget">' + 'x'.repeat(2000) + '</div>'

const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length }).end(body))
const upPort = await freePort()
await new Promise<void>((r) => upstream.listen(upPort, '127.0.0.1', r))

const dir = mkdtempSync(join(tmpdir(), 'dx-bench-'))
writeFileSync(join(dir, 'gw.toml'), `[[services]]\nname = "svc"\nupstreams = ["http://127.0.0.1:${upPort}"]\n`)
const gw = await new Proc({ name: 'gateway', entry: 'gateway/src/main.ts', port: await freePort(), env: { DX_CONFIG: join(dir, 'gw.toml') } }).start()

async function load(port: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const latencies: number[] = []
  const until = Date.now() + seconds * 1000
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now()
      request({ host: '127.0.0.1', port, path: '/svc/widget', agent, headers: { 'hx-request': 'true' } }, (res) => {
        res.resume()
        res.on('end', () => {
          latencies.push(performance.now() - t0)
          resolve()
        })
      })
        .on('error', reject)
        .end()
    })
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) await one()
  }))
  agent.destroy()
  return latencies
}

const fmt = (n: number) => n.toFixed(2)
await load(upPort) // warm-up
const direct = await load(upPort)
const cpu0 = cpuMs(gw.child!.pid!)
const proxied = await load(gw.opts.port)
const cpu = cpuMs(gw.child!.pid!) - cpu0

console.log(`${seconds}s at concurrency ${concurrency}, ${body.length}-byte response`)
console.log(`direct       : ${Math.round(direct.length / seconds)} req/s, p50 ${fmt(quantile(direct, 0.5))} ms, p99 ${fmt(quantile(direct, 0.99))} ms`)
console.log(`via gateway  : ${Math.round(proxied.length / seconds)} req/s, p50 ${fmt(quantile(proxied, 0.5))} ms, p99 ${fmt(quantile(proxied, 0.99))} ms`)
console.log(`gateway CPU  : ${((cpu * 1000) / proxied.length).toFixed(0)} µs per proxied request`)

await gw.stop()
upstream.close()
