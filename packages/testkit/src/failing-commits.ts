import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// A commit that fails, for real: the database file and its WAL made immutable (chattr +i),
// so SQLite's write of the WAL frames fails with EPERM at COMMIT. A read-only open does not
// reproduce it (the write is refused before any row is returned). The -shm file stays
// writable: SQLite has it mapped in memory, and a write to an immutable mapping is SIGBUS,
// which would kill the test runner rather than fail the commit.

const chattr = (flag: '+i' | '-i', files: string[]) => spawnSync('chattr', [flag, ...files], { encoding: 'utf8' })

/** Why chattr +i cannot be used in `dir`, or null: the reason a test is skipped with. */
export function chattrProblem(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'chattr +i needs root; run as root to test failed commits'
  const probe = join(dir, 'probe')
  writeFileSync(probe, '')
  const r = chattr('+i', [probe])
  if (r.error) return `chattr is not available (${r.error.message})`
  if (r.status !== 0) return `chattr +i is not supported on ${dir}: ${r.stderr.trim()}`
  chattr('-i', [probe])
  return null
}

/** Runs `run` while every commit to the SQLite file `db` fails; the files are writable again after. */
export async function withFailingCommits(db: string, run: () => Promise<void>) {
  const files = [db, `${db}-wal`]
  assert.ok(files.every((f) => existsSync(f)), 'the database is open in WAL mode')
  const set = chattr('+i', files)
  assert.equal(set.status, 0, set.stderr)
  try {
    await run()
  } finally {
    chattr('-i', files)
  }
}
