import { matches, subjectError, type Bus, type Handler } from './bus.js'

type Sub = { pattern: string; handler: Handler }

/**
 * The bus inside one process. Delivery is asynchronous, as it is over a network, and in
 * publish order; a failing handler is reported and never stops the others.
 */
export function memoryBus(onError: (e: unknown, subject: string) => void = () => {}): Bus {
  let subs: Sub[] = []
  let closed = false

  return {
    async publish(subject, data) {
      const bad = subjectError(subject)
      if (bad) throw new Error(bad)
      if (closed) throw new Error('bus is closed')
      // Copy the list: a handler that subscribes or unsubscribes must not change this delivery.
      const targets = subs.filter((s) => matches(s.pattern, subject))
      await Promise.resolve()
      for (const s of targets) {
        try {
          await s.handler(data, subject)
        } catch (e) {
          onError(e, subject)
        }
      }
    },
    subscribe(pattern, handler) {
      const bad = subjectError(pattern, true)
      if (bad) throw new Error(bad)
      const sub = { pattern, handler }
      subs = [...subs, sub]
      return () => {
        subs = subs.filter((s) => s !== sub)
      }
    },
    async close() {
      closed = true
      subs = []
    },
  }
}
