import { BusConfigError, createBus, waitConnected, type Bus } from '@dx/bus'
import { logger } from '@dx/kit'
import { chatService } from './app.js'
import { openHistory } from './history.js'
import { createHub } from './hub.js'
import { roomError } from './rules.js'
import { attachSockets } from './sockets.js'

const log = logger('chat')

function positive(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (Number.isInteger(n) && n > 0) return n
  log.error(`${name}=${JSON.stringify(raw)}: expected a positive whole number`)
  process.exit(2)
}

// The room where other services' events are told ("ana added a todo: buy milk").
const eventsRoom = process.env.CHAT_EVENTS_ROOM || 'lobby'
const badRoom = roomError(eventsRoom)
if (badRoom) {
  log.error(`CHAT_EVENTS_ROOM=${JSON.stringify(eventsRoom.slice(0, 40))}: ${badRoom}`)
  process.exit(2)
}

// DX_BUS: memory (one replica) or nats://… (replicas share rooms and members).
let bus: Bus
try {
  bus = createBus({ url: process.env.DX_BUS, prefix: process.env.DX_BUS_PREFIX, log, name: 'dx-chat' })
} catch (e) {
  if (!(e instanceof BusConfigError)) throw e
  log.error(e.message)
  process.exit(2)
}
// A bounded wait; without the bus the replica still serves its own sockets, and keeps trying.
if (!(await waitConnected(bus, 5000))) log.warn(`the bus is ${bus.status().state}; serving meanwhile`)

// PostgreSQL when CHAT_DATABASE_URL is set (replicas share the history), else a SQLite file.
const history = await openHistory({ databaseUrl: process.env.CHAT_DATABASE_URL, file: process.env.CHAT_DB ?? './data/chat.db', log })

const hub = createHub({
  bus,
  history,
  log,
  rateMax: positive('CHAT_RATE_MAX', 20),
  rateWindowMs: positive('CHAT_RATE_WINDOW_MS', 10_000),
  pingMs: positive('CHAT_PING_MS', 10_000),
  presenceMs: positive('CHAT_PRESENCE_MS', 5000),
})
const svc = chatService(hub, { eventsRoom })
svc.healthFields(() => ({ bus: bus.status().state }))
await svc.start({
  port: positive('CHAT_PORT', positive('PORT', 4002)),
  onServer: (server) => {
    const sockets = attachSockets(server, hub, log)
    svc.onShutdown(() => sockets.close())
    // After the goodbye to the other replicas is on the bus.
    svc.onShutdown(async () => {
      await hub.shutdown()
      await bus.close()
    })
  },
})
