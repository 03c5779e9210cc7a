/** The largest manifest read; a bigger answer is not a manifest. */
export const MANIFEST_MAX_BYTES = 64 * 1024

export type ManifestCheck = { ok: true; manifest: Record<string, unknown> } | { ok: false; reason: string }

const NOT_DX = 'not a distributex service'

/**
 * Whether a replica's answer to `GET /_dx/manifest` shows it is the distributex service
 * `service`: a 2xx JSON object whose `name` is that service's name. The reason, when it
 * is not, is meant for people: "not a distributex service: GET /_dx/manifest answered 404".
 */
export function checkManifest(service: string, status: number, body: string): ManifestCheck {
  if (status < 200 || status > 299) return { ok: false, reason: `${NOT_DX}: GET /_dx/manifest answered ${status}` }
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return { ok: false, reason: `${NOT_DX}: GET /_dx/manifest is not JSON` }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: `${NOT_DX}: GET /_dx/manifest is not a JSON object` }
  const m = value as Record<string, unknown>
  if (m.name !== service) {
    const named = typeof m.name === 'string' ? JSON.stringify(m.name.slice(0, 40)) : 'no name'
    return { ok: false, reason: `${NOT_DX}: its manifest names ${named}, not "${service}"` }
  }
  return { ok: true, manifest: m }
}

/** A network-level failure to read the manifest (not an answer): try again later. */
export class ManifestUnreachable extends Error {}

/**
 * Reads and checks `GET /_dx/manifest` of `replica`. An answer that is not a manifest of
 * `service` resolves to `{ ok: false, reason }`; no answer at all (refused, timeout)
 * rejects with ManifestUnreachable.
 */
export async function fetchManifest(replica: URL, service: string, signal: AbortSignal): Promise<ManifestCheck> {
  let r: Response
  try {
    r = await fetch(new URL('/_dx/manifest', replica), { signal, headers: { accept: 'application/json' }, redirect: 'manual' })
  } catch (e) {
    throw new ManifestUnreachable(`GET /_dx/manifest: ${describeFetchError(e)}`)
  }
  let body: string
  try {
    body = await readCapped(r, MANIFEST_MAX_BYTES)
  } catch (e) {
    if (e instanceof TooLarge) return { ok: false, reason: `${NOT_DX}: GET /_dx/manifest is larger than ${MANIFEST_MAX_BYTES} bytes` }
    throw new ManifestUnreachable(`GET /_dx/manifest: ${describeFetchError(e)}`)
  }
  return checkManifest(service, r.status, body)
}

class TooLarge extends Error {}

async function readCapped(r: Response, max: number): Promise<string> {
  if (!r.body) return ''
  const declared = Number(r.headers.get('content-length'))
  if (declared > max) {
    await r.body.cancel().catch(() => {})
    throw new TooLarge()
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > max) throw new TooLarge() // leaving the loop cancels the stream
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** "connect ECONNREFUSED", "timed out", … from what fetch threw. */
export function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } }
  if (err?.name === 'TimeoutError') return 'timed out'
  if (err?.name === 'AbortError') return 'aborted'
  const cause = err?.cause
  if (cause?.code) return cause.code
  return cause?.message ?? err?.message ?? String(e)
}
