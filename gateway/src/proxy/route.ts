import http from 'node:http'
import https from 'node:https'
import type { ServiceConfig } from '../config.js'
import { Upstreams } from './upstreams.js'

/** A service, its replicas and its connection pools (keep-alive, at most max_connections per replica). */
export type Route = { service: ServiceConfig; upstreams: Upstreams; agents: { http: http.Agent; https: https.Agent } }

/** The routing table: each service's prefix to its replicas. */
export function routeTable(services: ServiceConfig[]) {
  const routes = new Map<string, Route>(
    services.map((s) => {
      const pool = { keepAlive: true, maxSockets: s.maxConnections, maxFreeSockets: Math.min(64, s.maxConnections) }
      return [s.prefix, { service: s, upstreams: new Upstreams(s.upstreams), agents: { http: new http.Agent(pool), https: new https.Agent(pool) } }]
    }),
  )

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
