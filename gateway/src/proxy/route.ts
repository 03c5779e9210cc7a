import type { ServiceConfig } from '../config.js'
import { createMetrics, type Metrics, type ServiceMetrics } from '../metrics.js'
import { UpstreamPool } from './pool.js'
import { Upstreams } from './upstreams.js'

/** A service, its replicas, and a keep-alive connection pool per replica. */
export type Route = { service: ServiceConfig; upstreams: Upstreams; pool: (replica: URL) => UpstreamPool; metrics: ServiceMetrics; close: () => Promise<void> }

function route(s: ServiceConfig, metrics: Metrics): Route {
  const pools = new Map<URL, UpstreamPool>()
  const pool = (replica: URL) => {
    let p = pools.get(replica)
    if (!p) {
      p = new UpstreamPool(replica, s.maxConnections, s.connectTimeoutMs)
      pools.set(replica, p)
    }
    return p
  }
  // close() lets requests in flight finish; destroy() after 2 s cuts what is left.
  const close = async () => {
    await Promise.all(
      [...pools.values()].map((p) =>
        Promise.race([p.close(), new Promise((r) => setTimeout(r, 2000).unref())]).then(() => p.destroy()),
      ),
    )
  }
  return { service: s, upstreams: new Upstreams(s.upstreams), pool, metrics: metrics.forService(s.name), close }
}

/** The routing table: each service's prefix to its replicas. */
export function routeTable(services: ServiceConfig[], metrics: Metrics = createMetrics({ processMetrics: false })) {
  const routes = new Map<string, Route>(services.map((s) => [s.prefix, route(s, metrics)]))

  /** The route for a request target, or undefined when it is not a service's. */
  function match(url: string | undefined): Route | undefined {
    if (!url || url.charCodeAt(0) !== 47 /* / */) return undefined
    const end = url.indexOf('/', 1)
    const q = url.indexOf('?')
    const cut = end === -1 ? (q === -1 ? url.length : q) : q !== -1 && q < end ? q : end
    return routes.get(url.slice(0, cut))
  }
  return { routes, match }
}

/**
 * Why a path may not go to a service from outside, or undefined: protocol endpoints and
 * dot-segments, also when percent-encoded (services decode the path before routing).
 */
export function forbidden(url: string): { status: number; message: string } | undefined {
  const q = url.indexOf('?')
  let path = q === -1 ? url : url.slice(0, q)
  // Most paths hold nothing that the checks below look for.
  if (!/[%\\.]|_dx/i.test(path)) return undefined
  if (/%2f|%5c|\\/i.test(path)) return { status: 400, message: 'encoded slashes and backslashes are not allowed in the path' }
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path)
    } catch {
      return { status: 400, message: 'the path has a bad percent-encoding' }
    }
  }
  if (/(^|\/)\.{1,2}(\/|$)/.test(path)) return { status: 400, message: 'path segments "." and ".." are not allowed' }
  if (/\/_dx(\/|$)/i.test(path)) return { status: 404, message: 'protocol paths under /_dx/ are not proxied' }
  return undefined
}
