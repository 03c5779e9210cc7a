import { randomUUID } from 'node:crypto'

/** 1–64 characters of letters, digits, `.`, `_` and `-`: safe in a header, a log line and a URL. */
const SANE = /^[A-Za-z0-9._-]{1,64}$/

/**
 * The id of one request, for `X-Request-Id` upstream and on every log line about it: the
 * client's (or a proxy in front's) own when it is sane, else a new UUID.
 */
export function requestId(headerValue: string | undefined): string {
  return headerValue !== undefined && SANE.test(headerValue) ? headerValue : randomUUID()
}
