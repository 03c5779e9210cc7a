import type { Context } from 'hono'
import { html } from 'hono/html'
import { createService, hxTrigger, tryWrite } from '@dx/kit'
import { parseId, parsePage } from './params.js'
import type { Store } from './store.js'
import type { Stories } from './stories.js'
import { detailsUnavailable, favButton, favoritesList, message, newsWidget, storyDetails, storyRows } from './views.js'

export type NewsDeps = { store: Store; stories: Stories; now?: () => number }

/** The news service: standalone page at `/`, widget and fragments under `/news`. */
export function newsService({ store, stories, now = Date.now }: NewsDeps) {
  const svc = createService({ name: 'news', title: 'News' })
  const { app } = svc
  const fromSample = (c: Context) => c.req.query('source') === 'sample'

  // A refused write answers 503 with this text (dx.js shows it) and emits no event.
  const write = <T>(c: Context, outcome: string, run: () => Promise<T>) => tryWrite(c, svc.log, outcome, run)

  const widget = async () => newsWidget(await stories.page(0, 5), await store.list(), now())

  // The standalone page keeps its widget to a readable width (48rem), not the frame's 72rem.
  app.get('/', async (c) => c.html(svc.page(html`<div class="dx-standalone mx-auto max-w-3xl">${await widget()}</div>`)))
  app.get('/news', async (c) => c.html(await widget()))

  app.get('/news/stories', async (c) => {
    const checked = parsePage({ offset: c.req.query('offset'), limit: c.req.query('limit') })
    if (!checked.ok) return c.html(message(checked.error), 400)
    const { offset, limit } = checked.value
    const sample = fromSample(c)
    const page = await stories.page(offset, limit, { sample })
    // A page that fell back to the sample says so, since the rows above it were live.
    return c.html(storyRows(page, await store.ids(), now(), { noticeSample: !sample }))
  })

  app.get('/news/stories/:id', async (c) => {
    const id = parseId(c.req.param('id'))
    if (!id.ok) return c.html(message(id.error), 400)
    const found = await stories.story(id.value, { sample: fromSample(c) })
    if (found === 'not-found') return c.html(message(`Story #${id.value} was not found on Hacker News.`), 404)
    if (found === 'unreachable') return c.html(detailsUnavailable(id.value))
    const comments = found.source === 'live' ? await stories.comments(found.story) : []
    return c.html(storyDetails(found, comments, now()))
  })

  app.get('/news/favorites', async (c) => c.html(favoritesList(await store.list())))

  // The favourite buttons swap nothing themselves: the answer replaces the story's button
  // out of band, wherever it is, and the event refreshes the favourites list.
  app.post('/news/favorites', async (c) => {
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    const id = parseId(body.id)
    if (!id.ok) return c.html(message(id.error), 400)
    const found = await stories.story(id.value, { sample: body.source === 'sample' })
    if (found === 'not-found') return c.html(message(`Story #${id.value} was not found on Hacker News.`), 404)
    if (found === 'unreachable') return c.text(`Story #${id.value} cannot be loaded right now: the favourite was not saved.`, 503)
    const fav = await write(c, `Story #${id.value} could not be saved as a favourite; nothing was added`, () => store.add(found.story))
    if (fav instanceof Response) return fav
    c.header('HX-Trigger', hxTrigger({ 'news:favorited': { id: fav.id, title: fav.title } }))
    return c.html(favButton(fav.id, true, found.source, true))
  })

  app.delete('/news/favorites/:id', async (c) => {
    const id = parseId(c.req.param('id'))
    if (!id.ok) return c.html(message(id.error), 400)
    const source = fromSample(c) ? 'sample' : 'live'
    const fav = await write(c, `The favourite #${id.value} could not be removed; it is still there`, () => store.remove(id.value))
    if (fav instanceof Response) return fav
    // Already gone (another tab): nothing happened, so no event; this page is brought in step.
    if (!fav) return c.html(html`${favButton(id.value, false, source, true)}${favoritesList(await store.list(), true)}`)
    c.header('HX-Trigger', hxTrigger({ 'news:unfavorited': { id: fav.id, title: fav.title } }))
    return c.html(favButton(fav.id, false, source, true))
  })

  return svc
}
