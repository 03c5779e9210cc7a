import { randomFillSync } from 'node:crypto'

/** 1–64 characters of letters, digits, `.`, `_` and `-`: safe in a header, a log line and a URL. */
const SANE = /^[A-Za-z0-9._-]{1,64}$/

// Random bytes drawn 256 ids at a time: one id is then one hex string, where randomUUID
// builds its dashed form from about 20 string pieces (600 bytes of garbage per request).
const ID_BYTES = 16
const batch = Buffer.alloc(ID_BYTES * 256)
let next = batch.length

/** 32 random hex digits, as NGINX's `$request_id`. */
function newId(): string {
  if (next === batch.length) {
    randomFillSync(batch)
    next = 0
  }
  next += ID_BYTES
  return batch.toString('hex', next - ID_BYTES, next)
}

/**
 * The id of one request, for `X-Request-Id` upstream and on every log line about it: the
 * client's (or a proxy in front's) own when it is sane, else a new one.
 */
export function requestId(headerValue: string | undefined): string {
  return headerValue !== undefined && SANE.test(headerValue) ? headerValue : newId()
}
