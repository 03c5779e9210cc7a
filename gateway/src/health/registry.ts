import type { Logger } from '@dx/kit'
import type { Upstreams } from '../proxy/upstreams.js'
import type { Health, Replica, ReplicaSnapshot } from './replica.js'
import { describeFetchError, fetchManifest, ManifestUnreachable } from './manifest.js'

/** A service and its replicas: a proxy Route fits. */
export type RegistryService = { service: { name: string }; upstreams: Upstreams }

export type RegistryOptions = {
  routes: Iterable<RegistryService>
  /** Between the end of one probe of a replica and the start of the next. */
  intervalMs?: number
  /** Each request of a probe (`/healthz`, `/_dx/manifest`); at most the interval. */
  timeoutMs?: number
  /** While a replica is up, its manifest is read again this often, in case another server took its place. */
  manifestEveryMs?: number
  log: Logger
  /** A replica came up (first time, or after down, draining or foreign): e.g. re-read the manifests for event delivery. */
  onUp?: (service: string, replica: URL) => void
}

export type ServiceSnapshot = {
  name: string
  /** Replicas that could take a request now. */
  usable: number
  replicas: ReplicaSnapshot[]
}

export type RegistrySnapshot = {
  /** When the snapshot was taken (ISO). */
  at: string
  intervalMs: number
  services: ServiceSnapshot[]
}

/** Probe bookkeeping of one replica. */
type Probe = {
  service: string
  replica: Replica
  /** Failed probes in a row. */
  failures: number
  /** When its manifest was last found right (ms), 0 when it must be read at the next success. */
  manifestAt: number
  timer: NodeJS.Timeout | undefined
  /** The probe in flight, and how to abandon it. */
  running: Promise<void> | undefined
  abort: AbortController | undefined
}

/**
 * Watches every replica of every service: `GET /healthz` every interval (one probe per
 * replica in flight at most; timers unref'd, so they never hold the process open).
 *
 * - a 200 marks it up at once, but only once its `GET /_dx/manifest` names this service
 *   (read when it comes up, and again at every probe by default: `manifestEveryMs`); otherwise it is
 *   `foreign`, with the reason, gets no traffic, and is checked again at each probe;
 * - a 503 marks it draining (no new requests);
 * - two failed probes in a row (no answer, timeout, any other status) mark it down.
 *
 * Each change of health is logged once, and each breaker opening and closing.
 */
export function createRegistry(o: RegistryOptions) {
  const { log } = o
  const intervalMs = o.intervalMs ?? 2000
  const timeoutMs = Math.min(o.timeoutMs ?? 1000, intervalMs)
  // Every probe: another program can take a replica's port between two probes without a
  // single failed one, and it must not get traffic for long (one more request per interval).
  const manifestEveryMs = o.manifestEveryMs ?? 0
  const services = [...o.routes]
  const probes: Probe[] = []
  let running = false
  /** Bumped by stop(), so a loop from before a restart ends. */
  let generation = 0

  for (const { service, upstreams } of services) {
    const name = service.name
    upstreams.onBreakerChange = (replica, { from, to, why }) => {
      if (to === 'open' && from === 'closed') log.warn(`${name}: ${replica.url.origin}: circuit open (${why}); no requests for a while, then one trial`)
      else if (to === 'closed') log.info(`${name}: ${replica.url.origin}: circuit closed (${why})`)
    }
    for (const replica of upstreams.replicas) {
      probes.push({ service: name, replica, failures: 0, manifestAt: 0, timer: undefined, running: undefined, abort: undefined })
    }
  }

  function change(p: Probe, health: Health, reason: string) {
    const { replica, service } = p
    const before = replica.health
    if (!replica.setHealth(health, reason)) return
    const origin = replica.url.origin
    if (health === 'up') {
      log.info(`${service}: ${origin} is up${before === 'unknown' ? '' : ` (was ${before})`}`)
      try {
        o.onUp?.(service, replica.url)
      } catch (e) {
        log.error(`${service}: onUp failed`, e)
      }
    } else if (health === 'draining') log.info(`${service}: ${origin} is draining (${reason}); no new requests`)
    else if (health === 'foreign') log.warn(`${service}: ${origin} gets no traffic: ${reason}`)
    else log.warn(`${service}: ${origin} is ${health}: ${reason}`)
  }

  function failed(p: Probe, why: string) {
    p.failures++
    p.replica.error(why)
    if (p.replica.health === 'unknown') p.replica.reason = why
    if (p.failures >= 2) change(p, 'down', `${why} (${p.failures} probes in a row)`)
  }

  /** Probes one replica, or joins its probe in flight: never two at once. */
  function run(p: Probe): Promise<void> {
    if (!p.running) {
      p.running = probe(p)
        .catch((e) => log.error(`${p.service}: probing ${p.replica.url.origin} failed`, e))
        .finally(() => {
          p.running = undefined
          p.abort = undefined
        })
    }
    return p.running
  }

  async function probe(p: Probe) {
    const ctl = new AbortController()
    p.abort = ctl
    const signal = () => AbortSignal.any([ctl.signal, AbortSignal.timeout(timeoutMs)])
    const { replica } = p
    let status: number
    try {
      const r = await fetch(new URL('/healthz', replica.url), { signal: signal(), redirect: 'manual' })
      status = r.status
      await r.body?.cancel().catch(() => {})
    } catch (e) {
      if (ctl.signal.aborted) return
      return failed(p, `GET /healthz: ${describeFetchError(e)}`)
    }
    if (status === 503) {
      p.failures = 0
      p.manifestAt = 0
      return change(p, 'draining', 'GET /healthz answered 503')
    }
    if (status !== 200) return failed(p, `GET /healthz answered ${status}`)
    p.failures = 0
    replica.clearBackoff()
    const now = Date.now()
    if (replica.health === 'up' && p.manifestAt && now - p.manifestAt < manifestEveryMs) return
    try {
      const m = await fetchManifest(replica.url, p.service, signal())
      if (!m.ok) {
        p.manifestAt = 0
        replica.error(m.reason)
        return change(p, 'foreign', m.reason)
      }
    } catch (e) {
      if (ctl.signal.aborted) return
      return failed(p, e instanceof ManifestUnreachable ? e.message : `GET /_dx/manifest: ${(e as Error).message}`)
    }
    p.manifestAt = now
    change(p, 'up', '')
  }

  function schedule(p: Probe, delay: number, gen: number) {
    if (!running || gen !== generation) return
    p.timer = setTimeout(() => {
      p.timer = undefined
      void run(p).then(() => schedule(p, intervalMs, gen))
    }, delay)
    p.timer.unref()
  }

  /** One round of probes now, all replicas at once; resolves when every one has finished. */
  async function probeAll() {
    await Promise.all(probes.map(run))
  }

  return {
    /** Starts probing: every replica at once, then every interval. */
    start() {
      if (running) return
      running = true
      for (const p of probes) schedule(p, 0, generation)
    },
    /** Stops probing and abandons the probes in flight. */
    stop() {
      running = false
      generation++
      for (const p of probes) {
        clearTimeout(p.timer)
        p.timer = undefined
        p.abort?.abort()
      }
    },
    probeAll,
    intervalMs,
    /** Plain data for the status page and /_dx/status.json. */
    snapshot(): RegistrySnapshot {
      return {
        at: new Date().toISOString(),
        intervalMs,
        services: services.map(({ service, upstreams }) => {
          const replicas = upstreams.replicas.map((r) => r.snapshot())
          return { name: service.name, usable: replicas.filter((r) => r.usable).length, replicas }
        }),
      }
    },
  }
}
export type Registry = ReturnType<typeof createRegistry>
