// HN `text` fields are HTML. We never render them raw: tags go, the common entities are
// decoded, and the template escapes the result again.

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ',
  ndash: '–', mdash: '—', hellip: '…', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”',
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
    if (name[0] !== '#') return NAMED[name.toLowerCase()] ?? whole
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
    const ok = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
    return ok ? String.fromCodePoint(code) : whole
  })
}

/** Paragraphs of plain text from an HN HTML fragment. */
export function plainParagraphs(htmlText: string | undefined): string[] {
  if (!htmlText) return []
  const text = htmlText
    .replace(/<p\b[^>]*>/gi, '\n\n')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
  return decodeEntities(text)
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
}

const UNITS: Array<[string, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
]

/** "3 hours ago" for a Unix time in seconds, relative to `nowMs`. */
export function timeAgo(unixSeconds: number | undefined, nowMs: number): string {
  if (unixSeconds === undefined) return 'at an unknown time'
  const s = Math.floor(nowMs / 1000) - unixSeconds
  if (s < 60) return 'just now'
  for (const [unit, size] of UNITS) {
    const n = Math.floor(s / size)
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'} ago`
  }
  return 'just now'
}
