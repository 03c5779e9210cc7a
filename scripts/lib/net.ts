import { createServer } from 'node:net'

/**
 * Tries to listen on `port` and closes again at once: the error code (`EADDRINUSE`, …)
 * when that fails. Checked before anything starts, so a port held by another program is
 * one clear line instead of three half-started parts and a stack trace.
 */
export function portProblem(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)))
  })
}

/** One probe: does `url` answer 200 within a second? */
export async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
    await res.body?.cancel()
    return res.status === 200
  } catch {
    return false
  }
}

/**
 * A gateway's view of its services, from its status JSON: those it does not see up (no
 * replica `up`), and whether it probes at all (a replica in another state than `unknown`).
 * Undefined when it could not be read.
 */
export async function gatewayView(statusUrl: string): Promise<{ notUp: string[]; probing: boolean } | undefined> {
  try {
    const res = await fetch(statusUrl, { signal: AbortSignal.timeout(1000) })
    if (res.status !== 200) return void (await res.body?.cancel())
    const s = (await res.json()) as { services?: { name: string; replicas: { health: string }[] }[] }
    const services = s.services ?? []
    return {
      notUp: services.filter((svc) => !svc.replicas.some((r) => r.health === 'up')).map((svc) => svc.name),
      probing: services.some((svc) => svc.replicas.some((r) => r.health !== 'unknown')),
    }
  } catch {
    return undefined
  }
}
