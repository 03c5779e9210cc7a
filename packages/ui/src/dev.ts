// `make watch` only. The runner serves a stream of "reload" and "css" events (scripts/lib/
// dev-server.ts) and gives every part DX_DEV=1 and DX_DEV_URL; pages then carry a small
// script that follows the stream. Without DX_DEV=1 nothing of it exists: no meta, no
// script tag, no asset, no extra CSP origin.

export const DEV_DEFAULT_URL = 'http://localhost:4090'
/** The asset name of the page script that follows the stream (packages/ui/src/client/). */
export const DEV_SCRIPT = 'dev-reload.js'

/**
 * The origin of the dev event stream when DX_DEV=1, else undefined. Read from the
 * environment on each call (a few lookups), so tests can switch it; a bad DX_DEV_URL throws,
 * and since every process builds its CSP at start, it stops there with this message.
 */
export function devOrigin(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.DX_DEV !== '1') return undefined
  const raw = env.DX_DEV_URL || DEV_DEFAULT_URL
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`DX_DEV_URL=${JSON.stringify(raw)} is not an http(s) URL: expected something like ${DEV_DEFAULT_URL}`)
  }
  return url.origin
}
