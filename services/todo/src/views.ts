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

export function todoWidget(todos: Todo[], form: FormState = {}) {
  const left = todos.filter((t) => !t.done).length
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
<ul id="todo-list" class="mt-2 divide-y divide-slate-100">${todos.map(item)}</ul>
<p class="mt-2 text-xs text-slate-500">${todos.length === 0 ? 'Nothing to do yet.' : `${left} of ${todos.length} left`}</p>`,
  )
}
