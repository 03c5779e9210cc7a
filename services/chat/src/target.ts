// The request target of an upgrade, taken apart without new URL(): that throws on targets
// like "//a:99999/chat/ws", and a throw in an `upgrade` handler takes the process down.

const split = (target: string | undefined) => {
  const t = target ?? '/'
  const q = t.indexOf('?')
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) }
}

/** The path of a request target, as sent (no normalising: "/chat/ws" is the only one we serve). */
export const pathOf = (target: string | undefined): string => split(target).path

/** Its query parameters; URLSearchParams never throws, whatever the bytes. */
export const queryOf = (target: string | undefined): URLSearchParams => new URLSearchParams(split(target).query)
