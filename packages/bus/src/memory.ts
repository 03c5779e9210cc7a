import { matches, queueError, subjectError, type Bus, type BusStatus, type Handler } from './bus.js'

type Sub = { pattern: string; handler: Handler; queue?: string }

/**
 * The bus inside one process. Delivery is asynchronous, as it is over a network, and in
 * publish order; a failing handler is reported and never stops the others. A queue group
 * gets each message once, taken in turn by its members, as NATS does across processes.
 */
export function memoryBus(onError: (e: unknown, subject: string) => void = () => {}): Bus {
  let subs: Sub[] = []
  let status: BusStatus = { kind: 'memory', state: 'connected', since: Date.now(), buffered: 0, dropped: 0 }
  const listeners = new Set<(s: BusStatus) => void>()
  // Turn of each queue group, so its members share the work.
  const turns = new Map<string, number>()

  /** The subscriptions that get a message on `subject`: all plain ones, one per queue group. */
  function targets(subject: string): Sub[] {
    const out: Sub[] = []
    const groups = new Map<string, Sub[]>()
    for (const s of subs) {
      if (!matches(s.pattern, subject)) continue
      if (s.queue === undefined) out.push(s)
      else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s])
    }
    for (const [queue, members] of groups) {
      const turn = turns.get(queue) ?? 0
      turns.set(queue, turn + 1)
      out.push(members[turn % members.length])
    }
    return out
  }

  return {
    async publish(subject, data) {
      const bad = subjectError(subject)
      if (bad) throw new Error(bad)
      if (status.state === 'closed') throw new Error('bus is closed')
      // Chosen now: a handler that subscribes or unsubscribes must not change this delivery.
      const chosen = targets(subject)
      await Promise.resolve()
      for (const s of chosen) {
        try {
          await s.handler(data, subject)
        } catch (e) {
          onError(e, subject)
        }
      }
    },
    subscribe(pattern, handler, opts = {}) {
      const bad = subjectError(pattern, true) ?? (opts.queue === undefined ? null : queueError(opts.queue))
      if (bad) throw new Error(bad)
      const sub: Sub = { pattern, handler, queue: opts.queue }
      subs = [...subs, sub]
      return () => {
        subs = subs.filter((s) => s !== sub)
      }
    },
    status: () => ({ ...status }),
    onStatus(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    async close() {
      if (status.state === 'closed') return
      subs = []
      status = { ...status, state: 'closed', since: Date.now() }
      for (const fn of listeners) fn({ ...status })
      listeners.clear()
    },
  }
}
