// HX-Trigger header syntax: htmx's three forms, and event names `NAME:verb`.

const EVENT_NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/

/** Why a trigger header's value is wrong for a service named `name`, or null. */
export function triggerProblem(value: string, name: string): string | null {
  const text = value.trim()
  if (!text) return 'it is empty'
  let names: string[]
  if (text.startsWith('{')) {
    let obj: unknown
    try {
      obj = JSON.parse(text)
    } catch {
      return 'it starts with { but is not JSON'
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return 'it is JSON but not an object of event name to detail'
    names = Object.keys(obj)
    if (names.length === 0) return 'it names no event'
  } else {
    names = text.split(',').map((s) => s.trim())
    const bad = names.find((n) => !n || /\s/.test(n) || n.includes('"'))
    if (bad !== undefined) return `"${text.slice(0, 80)}" is neither a name, a comma-separated list of names, nor a JSON object`
  }
  const foreign = names.find((n) => !EVENT_NAME.test(n) || !n.startsWith(`${name}:`))
  if (foreign !== undefined) return `event "${foreign.slice(0, 60)}" is not named "${name}:verb"`
  return null
}
