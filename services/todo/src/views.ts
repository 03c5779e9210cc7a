import { html, raw } from 'hono/html'
import { widgetFrame } from '@dx/ui'
import type { Todo } from './store.js'

export type FormState = { value?: string; error?: string; notice?: string }

// Every action re-renders the whole widget: the list is small and the page stays in step.
const target = raw('hx-target="closest .dx-widget" hx-swap="outerHTML"')

function item(t: Todo) {
  return html`<li class="flex items-baseline gap-3 py-2" data-todo-id="${t.id}">
  <button class="w-16 shrink-0 rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50"
    hx-patch="/todo/items/${t.id}" hx-vals='{"done": "${t.done ? 'false' : 'true'}"}' ${target}>${t.done ? 'Undo' : 'Done'}</button>
  <span class="todo-text dx-user-text min-w-0 flex-1 ${t.done ? 'text-slate-400 line-through' : ''}">${t.text}</span>
  <button class="shrink-0 rounded px-2 py-1 text-xs text-red-700 hover:bg-red-50" aria-label="Remove"
    hx-delete="/todo/items/${t.id}" ${target}>Remove</button>
</li>`
}

/**
 * The list and its count, which every open window keeps current: it fetches itself again
 * (`GET /todo/list`) when `todo:added`, `todo:updated` or `todo:removed` fires on body,
 * which dx.js does for the events of other windows (the gateway's event stream), and on
 * `dx:resync`, which dx.js fires when the stream missed events. Only this part is
 * swapped, so what the user is typing in the form stays.
 *
 * This page's own action must not fetch it a second time. htmx fires a response's
 * HX-Trigger events on the requesting element before it swaps (handleAjaxResponse, in the
 * same task: swap delay 0, no view transition), and they bubble to body, so without care
 * the list would refetch after each add, done or remove, whose answer already is the whole
 * widget. Hence `delay:50ms`: the refresh starts 50 ms after the event, and by then that
 * answer has replaced the widget, this element with it; htmx issues no request for an
 * element that has left the page (issueAjaxRequest checks bodyContains first). An event
 * from elsewhere finds the element in place and fetches once, 50 ms later; a burst of
 * them fetches once (the delay restarts on each).
 *
 * Why not hx-sync on the widget (actions `queue`, list `drop`)? It also drops the
 * refresh for another window's event that arrives while a refresh is under way, and a
 * queued second click is lost once the first answer replaces the widget. Here actions
 * run as before, and `hx-sync="this:replace"` makes a newer refresh abort one in flight
 * rather than queue behind it: a queued request would belong to the element the first
 * answer replaces (outerHTML) and never run, losing the newer change. `hx-disinherit`
 * keeps that sync off the buttons inside: a refresh must never abort a write.
 */
export function todoList(todos: Todo[]) {
  const left = todos.filter((t) => !t.done).length
  return html`<div id="todo-items" class="todo-items" hx-get="/todo/list" hx-swap="outerHTML"
  hx-trigger="todo:added from:body delay:50ms, todo:updated from:body delay:50ms, todo:removed from:body delay:50ms, dx:resync from:body delay:50ms"
  hx-sync="this:replace" hx-disinherit="hx-sync">
<ul id="todo-list" class="mt-2 divide-y divide-slate-100">${todos.map(item)}</ul>
<p class="todo-count mt-2 text-xs text-slate-500">${todos.length === 0 ? 'Nothing to do yet.' : `${left} of ${todos.length} left`}</p>
</div>`
}

export function todoWidget(todos: Todo[], form: FormState = {}) {
  return widgetFrame(
    'todo',
    'Todos',
    html`<form class="flex gap-2" hx-post="/todo/items" ${target}>
  <input id="todo-text" name="text" autocomplete="off" placeholder="What needs doing?" aria-label="New todo"
    value="${form.value ?? ''}" ${form.error ? html`aria-invalid="true" aria-describedby="todo-form-error"` : ''}
    class="flex-1 rounded border border-slate-300 px-2 py-1 focus:border-indigo-500 focus:outline-none" />
  <button type="submit" class="rounded bg-indigo-600 px-3 py-1 text-white hover:bg-indigo-700">Add</button>
</form>
${form.error ? html`<p id="todo-form-error" class="todo-form-error mt-1 text-sm text-red-700" role="alert">${form.error}</p>` : ''}
${form.notice ? html`<p class="todo-notice mt-1 text-sm text-amber-700" role="status">${form.notice}</p>` : ''}
${todoList(todos)}`,
  )
}
