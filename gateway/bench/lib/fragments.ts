// The fragment services of the compose benchmark, in a process of their own: one HTTP
// server per name in DX_BENCH_FRAGMENTS ("a=4101,b=4102"), each answering GET /<name>
// with a small HTML fragment after DX_BENCH_DELAY_MS, and /healthz and /_dx/manifest as
// a distributex service does (the gateway's health checks send traffic only to those).
// The parent steers it over IPC: { name, state: 'up' | 'down' | 'slow', ms? }, answered
// with { done: true } once the change holds ('down' closes the port).
import { createServer, type Server } from 'node:http'

const delay = Number(process.env.DX_BENCH_DELAY_MS ?? 50)
const ports = new Map((process.env.DX_BENCH_FRAGMENTS ?? '').split(',').map((p) => p.split('=') as [string, string]).map(([n, p]) => [n, Number(p)]))
const extraDelay = new Map<string, number>()
const servers = new Map<string, Server>()

/** About what a real widget sends: a card with a list, 1–2 KB. */
const fragmentOf = (name: string) =>
  `<div class="dx-widget rounded-lg border bg-white p-4" data-widget="${name}"><h2 class="font-semibold">Widget ${name}</h2><ul>` +
  Array.from({ length: 12 }, (_, i) => `<li class="py-1 text-sm">Item ${i + 1} of widget ${name}, ready</li>`).join('') +
  `</ul><p class="marker">fragment-${name}-end</p></div>`

function serverFor(name: string) {
  const body = Buffer.from(fragmentOf(name))
  const manifest = JSON.stringify({ name, prefix: `/${name}`, widget: `/${name}`, subscribes: [] })
  return createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    if (req.url === '/_dx/manifest') return void res.writeHead(200, { 'content-type': 'application/json' }).end(manifest)
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    if (req.url !== `/${name}`) return void res.writeHead(404).end()
    setTimeout(() => {
      if (res.destroyed) return
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length }).end(body)
    }, extraDelay.get(name) ?? delay)
  })
}

async function up(name: string) {
  if (servers.has(name)) return
  const server = serverFor(name)
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports.get(name), '127.0.0.1', resolve))
  servers.set(name, server)
}

async function down(name: string) {
  const server = servers.get(name)
  if (!server) return
  servers.delete(name)
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

process.on('message', async (m: { name: string; state: 'up' | 'down' | 'slow'; ms?: number }) => {
  if (m.state === 'down') await down(m.name)
  else {
    await up(m.name)
    if (m.state === 'slow') extraDelay.set(m.name, m.ms ?? 2000)
    else extraDelay.delete(m.name)
  }
  process.send!({ done: true })
})
process.on('disconnect', () => process.exit(0))

for (const name of ports.keys()) await up(name)
process.send!({ ready: true })
