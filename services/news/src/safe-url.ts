/**
 * The href for a story URL, or undefined when it must not be a link: only `http:` and
 * `https:` parse as safe; `javascript:`, `data:` and anything unparsable stay text.
 */
export function safeHref(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return undefined
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined
}

/** The site shown next to a title, like HN does: the hostname without "www.". */
export function siteOf(raw: string | undefined): string | undefined {
  const href = safeHref(raw)
  return href ? new URL(href).hostname.replace(/^www\./, '') : undefined
}

/** The discussion page of an item on Hacker News. */
export const hnItemUrl = (id: number) => `https://news.ycombinator.com/item?id=${id}`
