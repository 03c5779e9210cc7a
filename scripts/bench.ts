// `make bench`: runs every */bench/*.ts in turn; each prints its own figures.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dirs = ['gateway/bench', ...readdirSync(join(root, 'services')).map((s) => `services/${s}/bench`)]
const only = process.argv.slice(2)
const files = dirs
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.ts')).map((f) => `${d}/${f}`))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))

let failed = 0
for (const f of files) {
  console.log(`\n=== ${f} ===`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', f], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) failed++
}
if (failed) {
  console.error(`\n${failed} benchmark(s) failed`)
  process.exit(1)
}
