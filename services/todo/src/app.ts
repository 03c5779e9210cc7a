import type { Context } from 'hono'
import { html } from 'hono/html'
import { createService, hxTrigger, tryWrite } from '@dx/kit'
import { validateText, type Store } from './store.js'
import { todoList, todoWidget } from './views.js'

/** The todo service: standalone page at `/`, widget and actions under `/todo`. */
export function todoService(store: Store) {
  const svc = createService({ name: 'todo', title: 'Todo' })
  const { app } = svc

  const widget = async (c: Context, status: 200 | 404 | 422 = 200, form = {}) =>
    c.html(todoWidget(await store.list(), form), status)

  // An id that is not a positive integer cannot exist: same answer as an unknown one.
  const parseId = (raw: string) => (/^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : undefined)
  const notFound = (c: Context, raw: string) =>
    widget(c, 404, { notice: `Todo #${raw.slice(0, 20)} no longer exists; the list is refreshed.` })

  // A refused write answers 503 with this text (dx.js shows it) and emits no event.
  const write = <T>(c: Context, outcome: string, run: () => Promise<T>) => tryWrite(c, svc.log, outcome, run)

  // The standalone page keeps its widget to a readable width (48rem), not the frame's 72rem.
  app.get('/', async (c) => c.html(svc.page(html`<div class="dx-standalone mx-auto max-w-3xl">${todoWidget(await store.list())}</div>`)))
  app.get('/todo', (c) => widget(c))
  app.get('/todo/items', async (c) => c.json(await store.list()))
  // The list and its count alone: what an open window fetches when another one changed it.
  app.get('/todo/list', async (c) => c.html(todoList(await store.list())))

  app.post('/todo/items', async (c) => {
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    const checked = validateText(body.text)
    if (!checked.ok) return widget(c, 422, { value: typeof body.text === 'string' ? body.text : '', error: checked.error })
    const todo = await write(c, 'The todo could not be saved; nothing was added', () => store.add(checked.text))
    if (todo instanceof Response) return todo
    c.header('HX-Trigger', hxTrigger({ 'todo:added': { id: todo.id, text: todo.text } }))
    return widget(c)
  })

  app.patch('/todo/items/:id', async (c) => {
    const id = parseId(c.req.param('id'))
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    if (body.done !== 'true' && body.done !== 'false') {
      return c.text('done must be "true" or "false"', 400)
    }
    const todo = await write(c, 'The todo could not be updated; nothing was changed', async () =>
      id === undefined ? undefined : store.setDone(id, body.done === 'true'),
    )
    if (todo instanceof Response) return todo
    if (!todo) return notFound(c, c.req.param('id'))
    c.header('HX-Trigger', hxTrigger({ 'todo:updated': { id: todo.id, text: todo.text, done: todo.done } }))
    return widget(c)
  })

  app.delete('/todo/items/:id', async (c) => {
    const id = parseId(c.req.param('id'))
    const todo = await write(c, 'The todo could not be removed; it is still there', async () => (id === undefined ? undefined : store.remove(id)))
    if (todo instanceof Response) return todo
    if (!todo) return notFound(c, c.req.param('id'))
    c.header('HX-Trigger', hxTrigger({ 'todo:removed': { id: todo.id, text: todo.text } }))
    return widget(c)
  })

  return svc
}
