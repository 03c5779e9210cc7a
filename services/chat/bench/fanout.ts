// Chat fan-out: N clients in one room through the gateway, one sender. Prints delivery
// latency (send → every client has it) p50/p99 at a steady pace, then messages/s and
// deliveries/s in a burst. Goal: p99 ≤ 50 ms at 500 clients on a 2-core machine.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuMs, quantile, sleep, startSystem } from '@dx/testkit'
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
