export const PAGE_SIZE = 5
export const MAX_LIMIT = 30

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string }

const WHOLE = /^[0-9]{1,15}$/

/** `?offset=&limit=`: whole numbers only; limit 1..30 (larger is capped); the message names the parameter. */
export function parsePage(q: { offset?: string; limit?: string }): Checked<{ offset: number; limit: number }> {
  const { offset = '0', limit = String(PAGE_SIZE) } = q
  if (!WHOLE.test(offset)) return { ok: false, error: `offset must be a whole number, 0 or more (got "${offset.slice(0, 20)}").` }
  if (!WHOLE.test(limit) || Number(limit) < 1) {
    return { ok: false, error: `limit must be a whole number from 1 to ${MAX_LIMIT} (got "${limit.slice(0, 20)}").` }
  }
  return { ok: true, value: { offset: Number(offset), limit: Math.min(Number(limit), MAX_LIMIT) } }
}

/** A story id: a positive whole number, as HN ids are. */
export function parseId(raw: unknown): Checked<number> {
  const s = typeof raw === 'string' ? raw : ''
  if (!/^[1-9][0-9]{0,14}$/.test(s)) return { ok: false, error: `id must be a positive whole number (got "${s.slice(0, 20)}").` }
  return { ok: true, value: Number(s) }
}
