// What the cluster tests observe: event streams of the gateways, chat rooms on each
// replica, and the gateways' own count of events delivered to chat.
import { sleep, type Proc } from '@dx/testkit'
import { ChatClient } from '../../services/chat/test/client.js'

export { ChatClient }

export type SseMessage = { id: string; event: string; data: string }

/** An open `GET /_dx/events` of one gateway, read in the background. */
export async function openEvents(gatewayUrl: string) {
  const ctl = new AbortController()
  const r = await fetch(`${gatewayUrl}/_dx/events`, { signal: ctl.signal, headers: { accept: 'text/event-stream' } })
  if (r.status !== 200 || !r.body) throw new Error(`${gatewayUrl}/_dx/events answered ${r.status}`)
  const messages: SseMessage[] = []
  let buf = ''
  let cur: SseMessage = { id: '', event: 'message', data: '' }
  const reading = (async () => {
    const dec = new TextDecoder()
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true })
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '')
        buf = buf.slice(nl + 1)
        if (line === '') {
          if (cur.data) messages.push(cur)
          cur = { id: '', event: 'message', data: '' }
        } else if (line.startsWith('event: ')) cur.event = line.slice(7)
        else if (line.startsWith('id: ')) cur.id = line.slice(4)
        else if (line.startsWith('data: ')) cur.data += (cur.data ? '\n' : '') + line.slice(6)
      }
    }
  })().catch(() => {}) // ends with close()
  return {
    messages,
    /** The `todo:added` envelopes whose text is `text`. */
    added: (text: string) => messages.filter((m) => m.event === 'todo:added' && (JSON.parse(m.data) as { detail?: { text?: string } }).detail?.text === text),
    close: async () => {
      ctl.abort()
      await reading
    },
  }
}
export type Events = Awaited<ReturnType<typeof openEvents>>

/** Polls `cond` every 25 ms for at most `ms`; its last value. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (await cond()) return true
  return cond()
}

/** Adds a todo through `base` (a gateway), as the person whose chat nickname is `actor`. */
export async function addTodo(base: string, text: string, actor = 'ana'): Promise<Response> {
  return fetch(`${base}/todo/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true', cookie: `dx_actor=${actor}` },
    body: new URLSearchParams({ text }),
    signal: AbortSignal.timeout(10_000),
  })
}

/** How many of `client`'s frames announce the todo `text`. */
export const announced = (client: ChatClient, text: string) => client.frames.filter((f) => f.includes(`added a todo: ${text}`)).length

type Status = { services: { name: string; deliveries: { ok: number } }[] }

/**
 * Events delivered to chat by all gateways together, by their own count (`/_dx/status.json`):
 * with a queue group per service, one gateway delivers each event, to one chat replica.
 */
export async function chatDeliveries(gateways: Proc[]): Promise<number> {
  let sum = 0
  for (const g of gateways) {
    const s = (await (await fetch(`${g.url}/_dx/status.json`, { signal: AbortSignal.timeout(2000) })).json()) as Status
    sum += s.services.find((x) => x.name === 'chat')?.deliveries.ok ?? 0
  }
  return sum
}
