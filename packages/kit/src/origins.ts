import { originList } from './security.js'

/** The gateway's URL: the "Main app" link of standalone pages and the origin they may write from. */
export const gatewayUrl = (): string => process.env.DX_GATEWAY_URL || 'http://localhost:4040'

/**
 * Origins other than a service's own that may write to it and open its WebSockets: the
 * gateway, plus `DX_ALLOWED_ORIGINS` (comma-separated) for other front ends.
 */
export const allowedOrigins = (): Set<string> => originList(gatewayUrl(), process.env.DX_ALLOWED_ORIGINS)
