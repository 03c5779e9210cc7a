import type { FailReason } from '../fallback.js'
import { CLOSED } from './pool.js'

/** Errors that mean the request never reached the replica: safe to try the next one. */
export const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'])

/** The socket closed under the request: on a kept-alive socket just reused, a read may go again, once. */
export const isReset = (code: string | undefined) => code === CLOSED || code === 'ECONNRESET' || code === 'EPIPE'

/** How a failure is named in logs and on the status page: the system's code, or the pool's own words. */
export const describe = (err: NodeJS.ErrnoException) => (err.code && !err.code.startsWith('DX_') ? err.code : err.message)

/** What the page says when no replica could be connected to. */
export const connectFailure = (code: string | undefined, timedOut = false): FailReason =>
  timedOut || code === 'ETIMEDOUT' ? 'connect-timeout' : code === 'ECONNREFUSED' ? 'refused' : 'upstream-error'
