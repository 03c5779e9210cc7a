// The embedding and isolate controls (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI). In
// someone else's text they reorder what follows them on the page, so a name or a title
// could make its neighbours read backwards ("Trojan Source"). Other invisible marks (LRM,
// RLM) only nudge neutral characters and are kept.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g

/** Text from users or other sites with its bidi controls removed, so it cannot reorder the page. */
export function stripBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '')
}
