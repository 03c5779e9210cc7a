import { subjectError, type Bus, type BusLogger } from './bus.js'
import { memoryBus } from './memory.js'
import { natsBus, type NatsBusOptions } from './nats.js'

/** `DX_BUS` (or `DX_BUS_PREFIX`) names no bus this can make; the process should say so and exit 2. */
export class BusConfigError extends Error {}

/** The NATS servers of a `DX_BUS` value, or null when it is not a NATS one. Throws BusConfigError when it is one, badly written. */
export function natsServers(url: string): string[] | null {
  if (!/^nats:\/\//i.test(url.trim())) return null
  return url.split(',').map((part) => {
    const raw = part.trim()
    let u: URL
    try {
      u = new URL(raw)
    } catch {
      throw new BusConfigError(`DX_BUS: "${raw}" is not a URL; expected nats://host:port`)
    }
    if (u.protocol !== 'nats:' || !u.hostname || (u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) {
      throw new BusConfigError(`DX_BUS: "${raw}" is not a NATS server address; expected nats://host:port (several comma-separated)`)
    }
    return raw
  })
}

export type CreateBusOptions = {
  /** `DX_BUS`: unset, empty or `memory` for the in-process bus; `nats://host:port[,nats://…]` for NATS. */
  url?: string
  log: BusLogger
  /** `DX_BUS_PREFIX`: every subject goes under it on NATS (dotted tokens). */
  prefix?: string
  /** The connection's name on the NATS server. */
  name?: string
} & Partial<Omit<NatsBusOptions, 'servers' | 'log' | 'prefix' | 'name'>>

/** The bus `DX_BUS` asks for. Throws BusConfigError for anything else. */
export function createBus(o: CreateBusOptions): Bus {
  const url = (o.url ?? '').trim()
  const onError = o.onError ?? ((e: unknown, subject: string) => o.log.error(`a handler for ${subject} failed`, e))
  if (o.prefix !== undefined && o.prefix !== '') {
    const bad = subjectError(o.prefix)
    if (bad) throw new BusConfigError(`DX_BUS_PREFIX: ${bad}`)
  }
  if (url === '' || url.toLowerCase() === 'memory') return memoryBus(onError)
  const servers = natsServers(url)
  if (!servers) throw new BusConfigError(`DX_BUS="${url.slice(0, 80)}": expected "memory" or nats://host:port (several comma-separated)`)
  return natsBus({ ...o, servers, onError })
}
