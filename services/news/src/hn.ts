import { z } from 'zod'
import { stripBidi } from '@dx/kit'
import { limiter } from './limit.js'

export type Story = {
  kind: 'story'
  id: number
  title: string
  url?: string
  by?: string
  /** Unix seconds. */
  time?: number
  score: number
  comments: number
  text?: string
  kids: number[]
}
export type Comment = { kind: 'comment'; id: number; by?: string; time?: number; text: string }
export type Item = Story | Comment

// Every field HN may leave out is optional; a field of the wrong type fails the whole item.
const itemSchema = z.object({
  id: z.number().int().positive(),
  type: z.string().optional(),
  by: z.string().optional(),
  time: z.number().int().nonnegative().optional(),
  title: z.string().optional(),
  url: z.string().optional(),
  text: z.string().optional(),
  score: z.number().int().optional(),
  descendants: z.number().int().nonnegative().optional(),
  kids: z.array(z.number().int().positive()).optional(),
  deleted: z.boolean().optional(),
  dead: z.boolean().optional(),
})

const STORY_TYPES = new Set(['story', 'job', 'poll'])

// Another site's text is shown, never allowed to reorder the page around it.
const clean = (s: string | undefined) => (s === undefined ? undefined : stripBidi(s))

/**
 * An HN item as we use it, or null for what is skipped: null, deleted, dead, untitled,
 * malformed. Its texts lose their bidi controls here, before they are cached or stored.
 */
export function parseItem(raw: unknown): Item | null {
  const r = itemSchema.safeParse(raw)
  if (!r.success) return null
  const it = r.data
  if (it.deleted || it.dead) return null
  const type = it.type ?? 'story'
  const base = { id: it.id, by: clean(it.by), time: it.time }
  const text = clean(it.text)
  if (type === 'comment') return text ? { kind: 'comment', ...base, text } : null
  if (!STORY_TYPES.has(type)) return null
  const title = clean(it.title)?.trim()
  if (!title) return null
  return {
    kind: 'story',
    ...base,
    title,
    url: clean(it.url) || undefined,
    score: it.score ?? 0,
    comments: it.descendants ?? 0,
    text: text || undefined,
    kids: it.kids ?? [],
  }
}

/** The top story ids; entries that are not positive integers are dropped. */
export function parseTopIds(raw: unknown): number[] {
  if (!Array.isArray(raw)) throw new Error('topstories.json: expected an array of ids')
  return raw.filter((id): id is number => Number.isSafeInteger(id) && id > 0)
}

export type HnClientOptions = {
  /** e.g. https://hacker-news.firebaseio.com/v0 */
  baseUrl: string
  /** Per call. */
  timeoutMs: number
  /** Calls in flight at once, so a page of items does not open 30 connections. */
  parallel?: number
}

/** The Hacker News API: two JSON endpoints, each call bounded in time. */
export function hnClient(opts: HnClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const run = limiter(opts.parallel ?? 8)

  const getJson = (path: string) =>
    run(async () => {
      const res = await fetch(`${base}/${path}`, { signal: AbortSignal.timeout(opts.timeoutMs), headers: { accept: 'application/json' } })
      if (!res.ok) {
        await res.body?.cancel()
        throw new Error(`${path}: HTTP ${res.status}`)
      }
      const text = await res.text()
      try {
        return JSON.parse(text) as unknown
      } catch {
        throw new Error(`${path}: malformed JSON`)
      }
    })

  return {
    topIds: async () => parseTopIds(await getJson('topstories.json')),
    item: async (id: number) => {
      const item = parseItem(await getJson(`item/${id}.json`))
      return item && item.id === id ? item : null
    },
  }
}
export type HnClient = ReturnType<typeof hnClient>
