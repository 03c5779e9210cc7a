// make watch: which part a changed file restarts, and the file watchers on a temp folder.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { effectOf, effectOfAll, homeOf, watchContent, watchRoots, watchSources } from '../lib/dev-watch.js'
import { planRun } from '../lib/plan.js'

const parts = planRun({}, { watch: true }).parts

test('a file of one service or of the gateway restarts that part only', () => {
  assert.deepEqual(effectOf('services/todo/src/views.ts', parts), { restart: ['todo'], reloadPages: false })
  assert.deepEqual(effectOf('services/news/sample/stories.json', parts).restart, ['news'])
  assert.deepEqual(effectOf('gateway/src/compose/index.ts', parts).restart, ['gateway'])
  assert.deepEqual(effectOf('gateway/gateway.toml', parts).restart, ['gateway'])
  assert.deepEqual(effectOf('apps/shell/src/index.ts', parts).restart, ['gateway'], 'the main app is rendered by the gateway')
})

test('shared packages restart every TypeScript part; client files and the icon only reload the pages', () => {
  assert.deepEqual(effectOf('packages/ui/src/layout.ts', parts).restart, ['todo', 'chat', 'news', 'gateway'])
  assert.deepEqual(effectOf('packages/kit/src/service.ts', parts).restart, ['todo', 'chat', 'news', 'gateway'])
  assert.deepEqual(effectOf('packages/ui/src/client/dx.js', parts), { restart: [], reloadPages: true })
  assert.deepEqual(effectOf('packages/ui/src/favicon.svg', parts), { restart: [], reloadPages: true })
})

test('tests, benchmarks, data, build output, CSS and editor leftovers change nothing', () => {
  for (const f of [
    'services/todo/test/app.test.ts',
    'gateway/bench/proxy.ts',
    'packages/testkit/src/procs.ts',
    'packages/ui/dist/app.css',
    'packages/ui/src/app.css',
    'services/todo/src/.views.ts.swp',
    'services/todo/src/views.ts~',
    'services/todo/src/4913',
    'packages/bus/node_modules/x/index.js',
    'README.md',
  ]) {
    assert.deepEqual(effectOf(f, parts), { restart: [], reloadPages: false }, f)
  }
})

test('a batch merges its effects, in the order of the parts', () => {
  assert.deepEqual(effectOfAll(['gateway/src/server.ts', 'services/chat/src/app.ts', 'services/chat/src/rooms.ts', 'packages/ui/src/client/dx.js'], parts), {
    restart: ['chat', 'gateway'],
    reloadPages: true,
  })
  assert.equal(homeOf('services/todo/src/main.ts'), 'services/todo')
  assert.equal(homeOf('examples/python-clock/clock.py'), 'examples/python-clock')
  assert.deepEqual(watchRoots(parts), ['packages', 'apps', 'services/todo', 'services/chat', 'services/news', 'gateway'])
})

function tempDir(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'dx-watch-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function until(what: string, ok: () => boolean, ms = 5000) {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
}

test('watchSources: changes in watched folders, new subfolders included, arrive as one batch of root-relative paths', async (t) => {
  const root = tempDir(t)
  mkdirSync(join(root, 'services/todo/src'), { recursive: true })
  mkdirSync(join(root, 'elsewhere'))
  const batches: string[][] = []
  const w = watchSources(root, ['services/todo', 'missing'], (files) => batches.push(files.sort()), 150)
  t.after(() => w.close())
  writeFileSync(join(root, 'services/todo/src/a.ts'), '1')
  writeFileSync(join(root, 'services/todo/src/b.ts'), '1')
  writeFileSync(join(root, 'elsewhere/c.ts'), '1')
  await until('a batch', () => batches.length > 0)
  assert.deepEqual(batches, [['services/todo/src/a.ts', 'services/todo/src/b.ts']])
  mkdirSync(join(root, 'services/todo/src/views'))
  await sleep(200) // let the watcher add the new folder
  writeFileSync(join(root, 'services/todo/src/views/list.ts'), '1')
  await until('the file in the new folder', () => batches.flat().includes('services/todo/src/views/list.ts'))
})

test('watchContent: a rewrite with the same bytes is no change; new bytes are, once', async (t) => {
  const root = tempDir(t)
  const file = join(root, 'app.css')
  writeFileSync(file, 'a{}')
  let changes = 0
  const w = watchContent(file, () => changes++, 50)
  t.after(() => w.close())
  writeFileSync(file, 'a{}')
  await sleep(300)
  assert.equal(changes, 0)
  writeFileSync(file, 'a{color:red}')
  await until('the change', () => changes === 1)
  await sleep(300)
  assert.equal(changes, 1)
})
