import type { FailReason } from '../fallback.js'
import { CLOSED } from './pool.js'

/** Errors that mean the request never reached the replica: safe to try the next one. */
export const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'])

/** The socket closed under the request: on a kept-alive socket just reused, a read may go again, once. */
export const isReset = (code: string | undefined) => code === CLOSED || code === 'ECONNRESET' || code === 'EPIPE'

/** What the page says when no replica could be connected to. */
export const connectFailure = (code: string | undefined, timedOut = false): FailReason =>
  timedOut || code === 'ETIMEDOUT' ? 'connect-timeout' : code === 'ECONNREFUSED' ? 'refused' : 'upstream-error'
