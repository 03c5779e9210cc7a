// Chat fan-out: N clients in one room through the gateway, one sender. Prints delivery
// latency (send → every client has it) p50/p99 at a steady pace, then messages/s and
// deliveries/s in a burst. Goal: p99 ≤ 50 ms at 500 clients on a 2-core machine.
// Then across 2 chat replicas on NATS (BENCH_NATS_URL, default nats://127.0.0.1:4222;
// skipped with a reason when none answers): the clients split between the replicas, the
// sender on the first, so half of every message crosses the bus.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus, waitConnected } from '@dx/bus'
import { cpuMs, freePort, Proc, quantile, sleep, startSystem } from '@dx/testkit'
import { ChatClient } from '../test/client.js'

const clients = Number(process.env.BENCH_CLIENTS ?? 500)
const paced = Number(process.env.BENCH_MESSAGES ?? 200)
const rate = Number(process.env.BENCH_RATE ?? 20) // messages per second in the paced phase
const burst = Number(process.env.BENCH_BURST ?? 500)

const sys = await startSystem({
  services: ['chat'],
  dataDir: mkdtempSync(join(tmpdir(), 'dx-bench-chat-')),
  serviceEnv: { chat: { CHAT_RATE_MAX: '1000000' } },
})

// Each frame carries the send time in the text: the bench process is sender and receiver,
// so both ends read the same clock.
const latencies: number[] = []
let delivered = 0
const onFrame = (frame: string) => {
  const m = /bench (\d+\.\d+)/.exec(frame)
  if (!m) return
  delivered++
  latencies.push(performance.now() - Number(m[1]))
}

const t0 = performance.now()
const room: ChatClient[] = []
for (let i = 0; i < clients; i += 50) {
  const batch = Array.from({ length: Math.min(50, clients - i) }, (_, j) => ChatClient.open(sys.gateway.url, 'bench', `c${i + j}`, { onFrame }))
  room.push(...(await Promise.all(batch)))
}
const sender = await ChatClient.open(sys.gateway.url, 'bench', 'sender')
console.log(`${clients} clients joined through the gateway in ${Math.round(performance.now() - t0)} ms`)
await sleep(1500) // let join notices and member lists settle

async function waitDelivered(n: number, ms = 60_000) {
  const until = Date.now() + ms
  while (delivered < n && Date.now() < until) await sleep(5)
  if (delivered < n) console.log(`  only ${delivered} of ${n} deliveries arrived`)
}

const cpu0 = { gw: cpuMs(sys.gateway.child!.pid!), chat: cpuMs(sys.services.chat!.child!.pid!) }
for (let i = 0; i < paced; i++) {
  sender.send(`bench ${performance.now().toFixed(3)}`)
  await sleep(1000 / rate)
}
await waitDelivered(paced * clients)
const steady = latencies.splice(0)
const fmt = (n: number) => n.toFixed(1)
console.log(`paced ${rate} msg/s × ${paced}: ${steady.length} deliveries, latency p50 ${fmt(quantile(steady, 0.5))} ms, p99 ${fmt(quantile(steady, 0.99))} ms, max ${fmt(Math.max(...steady))} ms`)
console.log(`  CPU per message: gateway ${fmt((cpuMs(sys.gateway.child!.pid!) - cpu0.gw) / paced)} ms, chat ${fmt((cpuMs(sys.services.chat!.child!.pid!) - cpu0.chat) / paced)} ms`)

delivered = 0
const b0 = performance.now()
for (let i = 0; i < burst; i++) sender.send(`bench ${performance.now().toFixed(3)}`)
await waitDelivered(burst * clients)
const seconds = (performance.now() - b0) / 1000
console.log(`burst of ${burst}: ${Math.round(burst / seconds)} messages/s, ${Math.round(delivered / seconds)} deliveries/s, latency p50 ${fmt(quantile(latencies, 0.5))} ms, p99 ${fmt(quantile(latencies, 0.99))} ms`)

for (const c of [...room, sender]) c.close()
await sys.stop()

// --- Across 2 replicas on NATS -------------------------------------------------------
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222'
async function natsProblem(): Promise<string | null> {
  try {
    const bus = createBus({ url: natsUrl, log: { info() {}, warn() {}, error() {} } })
    const ok = await waitConnected(bus, 3000)
    await bus.close()
    return ok ? null : `no NATS answers at ${natsUrl} within 3 s`
  } catch (e) {
    return (e as Error).message
  }
}
const problem = await natsProblem()
if (problem) console.log(`\n2 replicas on NATS: skipped (${problem}; set BENCH_NATS_URL)`)
else {
  const dir = mkdtempSync(join(tmpdir(), 'dx-bench-chat-nats-'))
  const prefix = `bench${randomBytes(6).toString('hex')}`
  const replicas = await Promise.all(
    [1, 2].map(async (n) =>
      new Proc({
        name: `chat-${n}`,
        entry: 'services/chat/src/main.ts',
        port: await freePort(),
        env: { DX_BUS: natsUrl, DX_BUS_PREFIX: prefix, CHAT_DB: join(dir, `chat-${n}.db`), CHAT_RATE_MAX: '1000000' },
      }).start(),
    ),
  )
  // Latencies of the clients on each replica, kept apart: replica 2's cross the bus.
  const per: number[][] = [[], []]
  const split: ChatClient[] = []
  for (let i = 0; i < clients; i += 50) {
    const batch = Array.from({ length: Math.min(50, clients - i) }, (_, j) => {
      const r = (i + j) % 2
      return ChatClient.open(replicas[r].url, 'bench', `c${i + j}`, {
        onFrame: (frame) => {
          const m = /bench (\d+\.\d+)/.exec(frame)
          if (m) per[r].push(performance.now() - Number(m[1]))
        },
      })
    })
    split.push(...(await Promise.all(batch)))
  }
  const from = await ChatClient.open(replicas[0].url, 'bench', 'sender')
  await sleep(1500)
  for (let i = 0; i < paced; i++) {
    from.send(`bench ${performance.now().toFixed(3)}`)
    await sleep(1000 / rate)
  }
  const want = paced * clients
  for (const until = Date.now() + 60_000; per[0].length + per[1].length < want && Date.now() < until; ) await sleep(5)
  const all = [...per[0], ...per[1]]
  if (all.length < want) console.log(`  only ${all.length} of ${want} deliveries arrived`)
  console.log(`\n2 replicas on NATS (${natsUrl}), ${clients} clients split between them, paced ${rate} msg/s × ${paced}:`)
  console.log(`  all clients: ${all.length} deliveries, latency p50 ${fmt(quantile(all, 0.5))} ms, p99 ${fmt(quantile(all, 0.99))} ms`)
  console.log(`  sender's replica: p50 ${fmt(quantile(per[0], 0.5))} ms, p99 ${fmt(quantile(per[0], 0.99))} ms; other replica (over the bus): p50 ${fmt(quantile(per[1], 0.5))} ms, p99 ${fmt(quantile(per[1], 0.99))} ms`)
  for (const c of [...split, from]) c.close()
  await Promise.all(replicas.map((p) => p.stop()))
}
