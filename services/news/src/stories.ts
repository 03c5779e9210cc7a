import type { Logger } from '@dx/kit'
import { SwrCache, type Clock } from './cache.js'
import type { Comment, HnClient, Item, Story } from './hn.js'
import type { Sample } from './sample.js'

export type Source = 'live' | 'sample'
export type Page = { stories: Story[]; offset: number; limit: number; total: number; source: Source }
export type Found = { story: Story; source: Source }

export type StoriesOptions = {
  client: HnClient
  sample: Sample
  /** The longest a request waits for the API, in all, before it answers without it. */
  deadlineMs: number
  topTtlMs?: number
  itemTtlMs?: number
  now?: Clock
  log?: Logger
}

const LATE = Symbol('late')

/** fetch says only "fetch failed"; the cause has the useful part (ECONNREFUSED, ENOTFOUND...). */
function why(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as { code?: string; message?: string } | undefined
  return cause ? `${err.message}: ${cause.code ?? cause.message}` : err.message
}

/** One timer per request: every API wait of the request races the same end. */
function deadline(ms: number) {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<typeof LATE>((r) => (timer = setTimeout(r, ms, LATE)))
  return {
    race: <T>(p: Promise<T>) => Promise.race([p, late]),
    clear: () => clearTimeout(timer),
    error: () => new Error(`no answer within ${ms} ms`),
  }
}
type Deadline = ReturnType<typeof deadline>

/**
 * Stories for the views: live from the API through the cache, or the bundled sample when
 * the API cannot be reached in time and nothing is cached. Never throws for API trouble.
 */
export function storySource(opts: StoriesOptions) {
  const { client, sample, log } = opts
  let reachable = true
  const up = () => {
    if (!reachable) log?.info('Hacker News answers again')
    reachable = true
  }
  const down = (err: unknown) => {
    if (reachable) log?.warn(`Hacker News cannot be reached (${why(err)}); serving the cache or the offline sample`)
    reachable = false
  }
  const cacheOpts = { now: opts.now, onRefreshError: (_key: string, err: unknown) => down(err) }
  const top = new SwrCache<number[]>({ ttlMs: opts.topTtlMs ?? 60_000, ...cacheOpts })
  const items = new SwrCache<Item | null>({ ttlMs: opts.itemTtlMs ?? 600_000, max: 5000, ...cacheOpts })

  const watch = <T>(p: Promise<T>) => p.then((v) => (up(), v), (e) => (down(e), Promise.reject(e)))
  const topIds = () => top.get('top', () => watch(client.topIds()))
  const item = (id: number) => items.get(String(id), () => watch(client.item(id)))

  async function livePage(offset: number, limit: number, d: Deadline): Promise<Page> {
    const ids = await d.race(topIds())
    if (ids === LATE) throw d.error()
    const slice = ids.slice(offset, offset + limit)
    const got = await Promise.allSettled(slice.map((id) => d.race(item(id))))
    // Late or failed items are left out; only when none came back is the API unreachable.
    const answered = got.flatMap((r) => (r.status === 'fulfilled' && r.value !== LATE ? [r.value] : []))
    if (slice.length > 0 && answered.length === 0) {
      const failed = got.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      throw failed ? failed.reason : d.error()
    }
    const stories = answered.filter((it): it is Story => it?.kind === 'story')
    return { stories, offset, limit, total: ids.length, source: 'live' }
  }

  function samplePage(offset: number, limit: number): Page {
    return { stories: sample.stories.slice(offset, offset + limit), offset, limit, total: sample.stories.length, source: 'sample' }
  }

  /** A page of top stories; `sample` keeps paging through the sample a page came from. */
  async function page(offset: number, limit: number, o: { sample?: boolean } = {}): Promise<Page> {
    if (o.sample) return samplePage(offset, limit)
    const d = deadline(opts.deadlineMs)
    try {
      return await livePage(offset, limit, d)
    } catch (err) {
      // The loads go on behind and fill the cache for the next request.
      down(err)
      return samplePage(offset, limit)
    } finally {
      d.clear()
    }
  }

  /** One story for its details or a favourite; 'unreachable' when neither API nor sample has it. */
  async function story(id: number, o: { sample?: boolean } = {}): Promise<Found | 'not-found' | 'unreachable'> {
    const fromSample = sample.byId.get(id)
    if (o.sample) return fromSample ? { story: fromSample, source: 'sample' } : 'not-found'
    const d = deadline(opts.deadlineMs)
    try {
      const it = await d.race(item(id))
      if (it !== LATE) return it?.kind === 'story' ? { story: it, source: 'live' } : 'not-found'
    } catch {
      // unreachable: the sample may still have it
    } finally {
      d.clear()
    }
    return fromSample ? { story: fromSample, source: 'sample' } : 'unreachable'
  }

  /** The first `n` readable top-level comments, or 'unreachable'. */
  async function comments(s: Story, n = 3): Promise<Comment[] | 'unreachable'> {
    const kids = s.kids.slice(0, n)
    const d = deadline(opts.deadlineMs)
    try {
      const got = await Promise.allSettled(kids.map((id) => d.race(item(id))))
      const answered = got.flatMap((r) => (r.status === 'fulfilled' && r.value !== LATE ? [r.value] : []))
      if (kids.length > 0 && answered.length === 0) return 'unreachable'
      return answered.filter((it): it is Comment => it?.kind === 'comment')
    } finally {
      d.clear()
    }
  }

  return {
    page,
    story,
    comments,
    /** Forget every cached answer (benchmarks measure a cold cache with it). */
    clear: () => {
      top.clear()
      items.clear()
    },
  }
}
export type Stories = ReturnType<typeof storySource>
