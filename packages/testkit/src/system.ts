import { randomBytes } from 'node:crypto'
import { freePort, Proc } from './procs.js'

export type ServiceName = 'todo' | 'chat' | 'news'

const entries: Record<ServiceName | 'gateway', string> = {
  gateway: 'gateway/src/main.ts',
  todo: 'services/todo/src/main.ts',
  chat: 'services/chat/src/main.ts',
  news: 'services/news/src/main.ts',
}

export type System = {
  gateway: Proc
  services: Partial<Record<ServiceName, Proc>>
  stop: () => Promise<void>
}

/**
 * Starts a gateway and the named services on free ports, with their data in `dataDir`.
 * `env` goes to every process; `serviceEnv` to one service only. Services not started
 * still get a (closed) port in the gateway's config, so their slot shows the fallback.
 */
export async function startSystem(opts: {
  services: ServiceName[]
  dataDir: string
  env?: Record<string, string>
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>
  /** Goes to the gateway only, last: e.g. `NEWS_URL` to put a fake in a service's place. */
  gatewayEnv?: Record<string, string>
}): Promise<System> {
  const ports = {
    gateway: await freePort(),
    todo: await freePort(),
    chat: await freePort(),
    news: await freePort(),
  }
  const common = {
    // Signed events, as with make start; a test may set its own or '' for none.
    DX_EVENT_SECRET: randomBytes(16).toString('hex'),
    ...opts.env,
    DX_GATEWAY_URL: `http://127.0.0.1:${ports.gateway}`,
    TODO_DB: `${opts.dataDir}/todo.db`,
    CHAT_DB: `${opts.dataDir}/chat.db`,
    NEWS_DB: `${opts.dataDir}/news.db`,
  }
  const services: System['services'] = {}
  await Promise.all(
    opts.services.map(async (name) => {
      services[name] = await new Proc({
        name,
        entry: entries[name],
        port: ports[name],
        env: { ...common, ...opts.serviceEnv?.[name] },
      }).start()
    }),
  )
  const gateway = await new Proc({
    name: 'gateway',
    entry: entries.gateway,
    port: ports.gateway,
    env: {
      ...common,
      TODO_URL: `http://127.0.0.1:${ports.todo}`,
      CHAT_URL: `http://127.0.0.1:${ports.chat}`,
      NEWS_URL: `http://127.0.0.1:${ports.news}`,
      // The origins the tests open standalone pages on: linked, and allowed to read events.
      TODO_STANDALONE_URL: `http://127.0.0.1:${ports.todo}`,
      CHAT_STANDALONE_URL: `http://127.0.0.1:${ports.chat}`,
      NEWS_STANDALONE_URL: `http://127.0.0.1:${ports.news}`,
      ...opts.gatewayEnv,
    },
  }).start()
  return {
    gateway,
    services,
    stop: async () => {
      await gateway.stop()
      await Promise.all(Object.values(services).map((p) => p.stop()))
    },
  }
}
