export type EventMap = Record<string, unknown>

/**
 * An `HX-Trigger` header value for events with details. Header values must be Latin-1, so
 * everything outside printable ASCII is written as a JSON \u escape: a todo named "☕"
 * must not crash the response.
 */
export function hxTrigger(events: EventMap): string {
  return JSON.stringify(events).replace(/[^\x20-\x7e]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
}
