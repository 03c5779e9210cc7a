// Runs every *.test.ts with Node's test runner. Node 20 does not expand globs, so the
// files are listed here; an empty list is an error, never a silent green run.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const skip = new Set(['node_modules', 'dist', 'data', '.git', 'e2e'])

function find(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) find(p, out)
    else if (name.endsWith('.test.ts')) out.push(relative(root, p))
  }
  return out
}

const only = process.argv.slice(2)
const files = find(root).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort()
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
console.log(`running ${files.length} test files`)
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
})
process.exit(r.status ?? 1)
