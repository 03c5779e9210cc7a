import { html } from 'hono/html'
import { widgetFrame } from '@dx/ui'
import { isSystem, type Message } from './history.js'
import { MAX_NICK, MAX_ROOM, MAX_TEXT } from './rules.js'

export type RoomCount = { room: string; count: number }
export type JoinForm = { nick?: string; room?: string; error?: string }

const namePattern = '[A-Za-z0-9_.\\-]+'
const clock = (iso: string) => iso.slice(11, 16)
const target = html`hx-target="closest .dx-widget" hx-swap="outerHTML"`
// One character as code, on a chip: alone it is easy to see, and no monospace spaces pad it.
const symbol = (c: string) => html`<code class="rounded bg-slate-100 px-1 font-mono text-slate-700">${c}</code>`

function roomButtons(rooms: RoomCount[], nick?: string, current?: string) {
  if (rooms.length === 0) return html`<li class="text-slate-500">No one is chatting yet.</li>`
  return rooms.map((r) =>
    r.room === current
      ? html`<li><span class="chat-room-link font-medium">#${r.room}</span> <span class="text-slate-500">(${r.count})</span></li>`
      : html`<li><form hx-post="/chat/join" ${target} class="inline">
  ${nick ? html`<input type="hidden" name="nick" value="${nick}" />` : ''}
  <button name="room" value="${r.room}" class="chat-room-link text-indigo-700 hover:underline">#${r.room}</button>
  <span class="text-slate-500">(${r.count})</span></form></li>`,
  )
}

/** The first view: pick a nickname and a room. */
export function joinWidget(rooms: RoomCount[], form: JoinForm = {}) {
  return widgetFrame(
    'chat',
    'Chat',
    html`<form class="chat-join flex flex-wrap gap-2" hx-post="/chat/join" ${target}>
  <input name="nick" aria-label="Nickname" placeholder="Nickname" required maxlength="${MAX_NICK}" pattern="${namePattern}"
    value="${form.nick ?? ''}" autocomplete="nickname" class="min-w-0 flex-1 basis-28 rounded border border-slate-300 px-2 py-1" />
  <input name="room" aria-label="Room" placeholder="Room" required maxlength="${MAX_ROOM}" pattern="${namePattern}"
    value="${form.room ?? 'lobby'}" list="chat-room-names" class="min-w-0 flex-1 basis-28 rounded border border-slate-300 px-2 py-1" />
  <datalist id="chat-room-names">${rooms.map((r) => html`<option value="${r.room}"></option>`)}</datalist>
  <button type="submit" class="rounded bg-indigo-600 px-3 py-1 text-white hover:bg-indigo-700">Join</button>
</form>
${form.error ? html`<p class="chat-join-error mt-1 text-sm text-red-700" role="alert">${form.error}</p>` : ''}
<p class="chat-join-hint mt-2 text-xs text-slate-500">Nickname up to 24 and room up to 32 characters: letters, digits, ${symbol('_')} (underscore), ${symbol('-')} (hyphen) and ${symbol('.')} (dot).</p>
<h3 class="mt-3 text-sm font-medium text-slate-700">Rooms</h3>
<ul class="mt-1 flex flex-wrap gap-x-4 text-sm">${roomButtons(rooms)}</ul>`,
  )
}

/** A joined room: the socket element that htmx-ext-ws connects, and the parts the server swaps. */
export function roomWidget(opts: { room: string; nick: string; sid: string; rooms: RoomCount[] }) {
  const { room, nick, sid } = opts
  const wsUrl = `/chat/ws?${new URLSearchParams({ room, nick, sid })}`
  return widgetFrame(
    'chat',
    'Chat',
    html`<div class="chat-room" hx-ext="ws" ws-connect="${wsUrl}" data-chat-room="${room}" data-chat-nick="${nick}">
  <div class="flex flex-wrap items-baseline gap-x-3 text-sm">
    <span class="min-w-0">Room <strong class="chat-room-name">#${room}</strong> as <strong class="chat-nick">${nick}</strong></span>
    <span class="chat-status text-xs text-slate-500" data-dx-ws-status role="status">connecting…</span>
    <button class="ml-auto shrink-0 rounded px-2 py-0.5 text-xs text-slate-600 hover:bg-slate-100" hx-get="/chat?nick=${encodeURIComponent(nick)}" ${target}>Leave</button>
  </div>
  <div class="@container mt-2"><div class="grid gap-3 @md:grid-cols-[minmax(0,1fr)_9rem]">
    <div class="chat-main min-w-0">
      <div id="chat-messages" class="h-64 overflow-y-auto rounded border border-slate-100 bg-slate-50 p-2 text-sm" data-dx-autoscroll aria-live="polite">
        <p class="text-slate-400">Loading messages…</p>
      </div>
      ${messageForm()}
      ${notice()}
    </div>
    <aside class="flex min-w-0 flex-wrap gap-x-6 text-sm @md:block">
      <div class="min-w-0"><h3 class="font-medium text-slate-700">In this room</h3>
      <ul id="chat-members" class="mb-2"></ul></div>
      <div class="min-w-0"><h3 class="font-medium text-slate-700">Rooms</h3>
      <ul id="chat-rooms">${roomButtons(opts.rooms, nick, room)}</ul></div>
    </aside>
  </div></div>
</div>`,
  )
}

/** The send form; sent back with what was typed when a message is refused. */
export function messageForm(value = '', oob = false) {
  return html`<form id="chat-form" ws-send class="mt-2 flex gap-2" data-dx-reset-on-send ${oob ? html`hx-swap-oob="true"` : ''}>
  <input name="text" aria-label="Message" placeholder="Say something" required maxlength="${MAX_TEXT}" autocomplete="off"
    value="${value}" class="min-w-0 flex-1 rounded border border-slate-300 px-2 py-1 focus:border-indigo-500 focus:outline-none" />
  <button type="submit" class="shrink-0 rounded bg-indigo-600 px-3 py-1 text-white hover:bg-indigo-700">Send</button>
</form>`
}

export function notice(text = '') {
  return html`<p id="chat-notice" class="chat-notice mt-1 min-h-5 text-sm text-amber-700" role="alert">${text}</p>`
}

// A system message has no nickname and reads as a note, not as someone speaking; its text
// (a todo, a story's title) comes from users and is escaped like any message.
function line(m: Message) {
  if (isSystem(m)) {
    return html`<p class="chat-message chat-system text-xs italic text-slate-500" data-message-id="${m.id}"><time class="text-slate-400" datetime="${m.time}">${clock(m.time)}</time>
  <span class="chat-text dx-user-text">${m.text}</span></p>`
  }
  return html`<p class="chat-message" data-message-id="${m.id}"><time class="text-xs text-slate-400" datetime="${m.time}">${clock(m.time)}</time>
  <strong class="chat-from">${m.nick}</strong>: <span class="chat-text dx-user-text">${m.text}</span></p>`
}

/** Everything a socket gets when it (re)joins: the room's history and members replace what the page had. */
export function joinedFrame(room: string, history: Message[], members: string[]) {
  return html`<div id="chat-messages" hx-swap-oob="innerHTML">${
    history.length === 0 ? html`<p class="text-slate-400 not-only:hidden">No messages in #${room} yet. Say hello!</p>` : history.map(line)
  }</div>
${membersFrame(members)}
${notice()}`
}

export const messageFrame = (m: Message) => html`<div id="chat-messages" hx-swap-oob="beforeend">${line(m)}</div>`

export const presenceFrame = (nick: string, verb: 'joined' | 'left', time: string) =>
  html`<div id="chat-messages" hx-swap-oob="beforeend"><p class="chat-presence text-xs italic text-slate-500"><time datetime="${time}">${clock(time)}</time> ${nick} ${verb}</p></div>`

export const membersFrame = (members: string[]) =>
  html`<ul id="chat-members" class="mb-2">${members.map((n) => html`<li class="chat-member">${n}</li>`)}</ul>`

export const roomsFrame = (rooms: RoomCount[], nick: string, room: string) =>
  html`<ul id="chat-rooms">${roomButtons(rooms, nick, room)}</ul>`

