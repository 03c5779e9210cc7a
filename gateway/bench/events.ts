// Event relay, end to end. (1) A todo added through the gateway, until chat's system
// message about it reaches a WebSocket client in the lobby: p50/p99 over 1,000 events,
// on the memory bus, then on NATS (BENCH_NATS_URL, default nats://127.0.0.1:4222; skipped
// with a reason when none answers). Goals: p99 ≤ 20 ms in memory; NATS p99 ≤ 2× memory.
// (2) Fan-out to 500 open /_dx/events streams: from publish to receipt at every stream,
// p50/p99. Goal: p99 ≤ 50 ms.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus, waitConnected } from '@dx/bus'
import { makeEnvelope, sign } from '@dx/kit'
import { quantile, sleep, startSystem } from '@dx/testkit'
import { ChatClient } from '../../services/chat/test/client.js'

const events = Number(process.env.BENCH_EVENTS ?? 1000)
const rate = Number(process.env.BENCH_RATE ?? 50) // todos per second
const streams = Number(process.env.BENCH_STREAMS ?? 500)
const fanoutEvents = Number(process.env.BENCH_FANOUT_EVENTS ?? 200)
const secret = randomBytes(16).toString('hex')
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222'

const system = (env: Record<string, string> = {}) =>
  startSystem({
    services: ['todo', 'chat'],
    dataDir: mkdtempSync(join(tmpdir(), 'dx-bench-events-')),
    env: { DX_EVENT_SECRET: secret, ...env },
  })
const fmt = (n: number) => n.toFixed(1)
const line = (label: string, xs: number[]) =>
  console.log(`${label}: ${xs.length} samples, p50 ${fmt(quantile(xs, 0.5))} ms, p99 ${fmt(quantile(xs, 0.99))} ms, max ${fmt(Math.max(...xs))} ms`)

// --- (1) todo → gateway → chat → WebSocket client ---------------------------------
// The gateway relays an event as soon as the service's response head arrives, so chat's
// message can beat the HTTP response to this process: both times are kept, matched later.
async function relayRun(gw: string): Promise<number[]> {
  const sent = new Map<string, number>()
  const arrived = new Map<string, number>()
  const onFrame = (frame: string) => {
    const m = /added a todo: (bench-\d+)/.exec(frame)
    if (m) arrived.set(m[1], performance.now())
  }
  const watcher = await ChatClient.open(gw, 'lobby', 'watcher', { onFrame })
  // Untimed warm-up: until one system message comes through, the gateway may still be
  // reading the services' manifests.
  for (let i = 0; i < 50 && !watcher.frames.some((f) => f.includes('added a todo: warm-up')); i++) {
    await (await fetch(`${gw}/todo/items`, { method: 'POST', body: new URLSearchParams({ text: 'warm-up' }) })).arrayBuffer()
    await sleep(200)
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const post = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const body = `text=${text}`
      const req = request(`${gw}/todo/items`, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => {
        // The response head has left the gateway: the clock starts.
        sent.set(text, performance.now())
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end(body)
    })
  const posts: Promise<void>[] = []
  for (let i = 0; i < events; i++) {
    posts.push(post(`bench-${i}`))
    await sleep(1000 / rate)
  }
  await Promise.all(posts)
  for (let i = 0; i < 200 && arrived.size < events; i++) await sleep(50)
  if (arrived.size < events) console.log(`  ${events - arrived.size} of ${events} system messages did not arrive`)
  watcher.close()
  agent.destroy()
  return [...sent].filter(([text]) => arrived.has(text)).map(([text, t0]) => Math.max(0, arrived.get(text)! - t0))
}

/** Whether a NATS server answers at `url`, or why not. */
async function natsProblem(url: string): Promise<string | null> {
  const quiet = { info() {}, warn() {}, error() {} }
  let bus
  try {
    bus = createBus({ url, log: quiet })
  } catch (e) {
    return (e as Error).message
  }
  const ok = await waitConnected(bus, 3000)
  await bus.close()
  return ok ? null : `no NATS answers at ${url} within 3 s`
}

console.log(`relay, ${rate} todos/s: todo response leaving the gateway → chat message at a WebSocket client`)
const sys = await system()
const gw = sys.gateway.url
const memory = await relayRun(gw)
line('  memory bus', memory)
const problem = await natsProblem(natsUrl)
if (problem) console.log(`  NATS bus: skipped (${problem}; set BENCH_NATS_URL)`)
else {
  const natsSys = await system({ DX_BUS: natsUrl, DX_BUS_PREFIX: `bench${randomBytes(6).toString('hex')}` })
  const nats = await relayRun(natsSys.gateway.url)
  await natsSys.stop()
  line(`  NATS bus (${natsUrl})`, nats)
  const ratio = quantile(nats, 0.99) / quantile(memory, 0.99)
  console.log(`  NATS p99 / memory p99: ${ratio.toFixed(2)}× (goal ≤ 2×)`)
}

// --- (2) fan-out to open event streams ---------------------------------------------
const fanout: number[] = []
const sseAgent = new Agent({ keepAlive: true, maxSockets: streams + 10 })
const open = () =>
  new Promise<void>((resolve, reject) => {
    const req = request(`${gw}/_dx/events`, { agent: sseAgent }, (res) => {
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const m = /"t0":([\d.]+)/.exec(frame)
          if (m) fanout.push(performance.now() - Number(m[1]))
        }
      })
      resolve()
    })
    req.on('error', reject)
    req.end()
  })
for (let i = 0; i < streams; i += 50) await Promise.all(Array.from({ length: Math.min(50, streams - i) }, open))
await sleep(500)
for (let i = 0; i < fanoutEvents; i++) {
  const env = makeEnvelope({ name: 'bench:tick', detail: { t0: performance.now() }, source: 'todo' })
  const body = JSON.stringify(env)
  const r = await fetch(`${gw}/_dx/publish`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-dx-signature': sign(body, secret) }, body })
  await r.arrayBuffer()
  await sleep(50)
}
for (let i = 0; i < 100 && fanout.length < streams * fanoutEvents; i++) await sleep(50)
console.log(`fan-out: ${fanoutEvents} events at 20/s to ${streams} open streams (${fanout.length} of ${streams * fanoutEvents} received)`)
line('  publish → every stream', fanout)

sseAgent.destroy()
await sys.stop()
process.exit(0)
