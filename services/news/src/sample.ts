import { readFileSync } from 'node:fs'
import { parseItem, type Story } from './hn.js'

export const SAMPLE_FILE = new URL('../sample/stories.json', import.meta.url)

export type Sample = { note: string; stories: Story[]; byId: Map<number, Story> }

/** The bundled snapshot served when Hacker News cannot be reached; checked like live items. */
export function loadSample(file: URL | string = SAMPLE_FILE): Sample {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { note?: unknown; stories?: unknown }
  const list = Array.isArray(raw.stories) ? raw.stories : []
  const stories = list.map(parseItem).filter((it): it is Story => it?.kind === 'story')
  return { note: String(raw.note ?? ''), stories, byId: new Map(stories.map((s) => [s.id, s])) }
}
