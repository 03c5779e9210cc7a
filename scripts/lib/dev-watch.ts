// `make watch`: which process a changed file belongs to, and the file watchers. The runner
// restarts processes itself (instead of `tsx watch` inside each part) so that it knows
// when a restarted part is healthy again and can tell the open pages to reload.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname, join } from 'node:path'

export type WatchedPart = { name: string; entry?: string }

/** What a change means: the parts to restart, and whether open pages should reload anyway. */
export type Effect = { restart: string[]; reloadPages: boolean }

// Sources a process reads (code, config, bundled data). CSS is Tailwind's to rebuild; its
// output is watched apart (watchContent) and swapped into pages without a reload.
const SOURCE = /\.(ts|mts|js|mjs|cjs|json|toml|py|svg)$/
// Tests, benchmarks, data and build output are never part of a running process.
const SKIP = /(^|\/)(node_modules|test|tests|bench|data|dist|\.git|\.dx|__pycache__)(\/|$)|^packages\/testkit\//

/** The folder a part's sources live in: `services/todo/src/main.ts` → `services/todo`. */
export function homeOf(entry: string): string {
  const i = entry.indexOf('/src/')
  return i >= 0 ? entry.slice(0, i) : dirname(entry)
}

const inside = (file: string, dir: string) => file.startsWith(dir.endsWith('/') ? dir : `${dir}/`)

/** `file` is relative to the repository root, with `/` separators. */
export function effectOf(file: string, parts: readonly WatchedPart[]): Effect {
  const none: Effect = { restart: [], reloadPages: false }
  if (!SOURCE.test(file) || SKIP.test(file)) return none
  // Client scripts and the icon are read from disk on each request: no process to restart,
  // but open pages run the old copy until they reload.
  if (inside(file, 'packages/ui/src/client') || file.endsWith('.svg')) return { restart: [], reloadPages: true }
  // Shared code: every TypeScript part imports the packages.
  if (inside(file, 'packages')) return { restart: parts.filter((p) => p.entry?.endsWith('.ts')).map((p) => p.name), reloadPages: false }
  // The main app's page is rendered by the gateway.
  if (inside(file, 'apps')) return { restart: parts.filter((p) => p.name === 'gateway').map((p) => p.name), reloadPages: false }
  return { restart: parts.filter((p) => p.entry && inside(file, homeOf(p.entry))).map((p) => p.name), reloadPages: false }
}

/** Every effect of a batch of changed files, merged. */
export function effectOfAll(files: readonly string[], parts: readonly WatchedPart[]): Effect {
  const restart = new Set<string>()
  let reloadPages = false
  for (const f of files) {
    const e = effectOf(f, parts)
    e.restart.forEach((n) => restart.add(n))
    reloadPages ||= e.reloadPages
  }
  // In the order of the parts, so that logs and events read the same each time.
  return { restart: parts.map((p) => p.name).filter((n) => restart.has(n)), reloadPages }
}

/** The folders to watch: the shared packages, the main app, and each part's home. */
export function watchRoots(parts: readonly WatchedPart[]): string[] {
  const roots = new Set(['packages', 'apps'])
  for (const p of parts) if (p.entry) roots.add(homeOf(p.entry))
  return [...roots]
}

export type Closer = { close: () => void }

/**
 * Watches `dirs` (relative to `root`, recursively) and calls `onFiles` with the files that
 * changed, relative to `root`, once no change came for `debounceMs`: an editor's save
 * (temp file, rename) or a `git checkout` becomes one call.
 */
export function watchSources(root: string, dirs: readonly string[], onFiles: (files: string[]) => void, debounceMs = 100): Closer {
  const changed = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    const files = [...changed]
    changed.clear()
    onFiles(files)
  }
  const watchers: FSWatcher[] = []
  for (const dir of dirs) {
    if (!existsSync(join(root, dir))) continue
    const w = watch(join(root, dir), { recursive: true }, (_event, name) => {
      if (!name) return
      changed.add(`${dir}/${String(name)}`.split('\\').join('/'))
      clearTimeout(timer)
      timer = setTimeout(flush, debounceMs)
    })
    w.on('error', () => {}) // a folder removed while watched: nothing left to watch there
    watchers.push(w)
  }
  return {
    close: () => {
      clearTimeout(timer)
      watchers.forEach((w) => w.close())
    },
  }
}

const digest = (path: string) => {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex')
  } catch {
    return undefined // not there (yet), or being replaced
  }
}

/**
 * Calls `onChange` when the content of `path` changes: Tailwind writes app.css on every
 * rebuild, often with the same bytes (an edit that adds no class), and those are no change.
 * The folder is watched, so a file created later or replaced by a rename is followed.
 */
export function watchContent(path: string, onChange: () => void, debounceMs = 100): Closer {
  let last = digest(path)
  let timer: NodeJS.Timeout | undefined
  const check = () => {
    timer = undefined
    const now = digest(path)
    if (now === undefined || now === last) return
    last = now
    onChange()
  }
  const w = watch(dirname(path), (_event, name) => {
    if (name && String(name) !== basename(path)) return
    clearTimeout(timer)
    timer = setTimeout(check, debounceMs)
  })
  w.on('error', () => {})
  return {
    close: () => {
      clearTimeout(timer)
      w.close()
    },
  }
}
