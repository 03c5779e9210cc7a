import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { findOnPath, PlanError, planRun, type Plan } from '../lib/plan.js'

const part = (plan: Plan, name: string) => {
  const p = plan.parts.find((x) => x.name === name)
  assert.ok(p, `no part ${name}`)
  return p
}

test('defaults: each part its own port, the gateway pointed at the services, the banner URLs', () => {
  const plan = planRun({ PATH: '/bin' }, { python: null })
  assert.deepEqual(
    plan.parts.map((p) => [p.name, p.env.PORT]),
    [['todo', '4001'], ['chat', '4002'], ['news', '4003'], ['gateway', '4040']],
  )
  const gw = part(plan, 'gateway')
  assert.equal(gw.env.TODO_URL, 'http://127.0.0.1:4001')
  assert.equal(gw.env.NEWS_STANDALONE_URL, 'http://localhost:4003')
  assert.equal(gw.health, 'http://127.0.0.1:4040/healthz')
  assert.equal(gw.status, 'http://127.0.0.1:4040/_dx/status.json')
  assert.equal(part(plan, 'todo').status, undefined)
  assert.equal(part(plan, 'chat').env.DX_GATEWAY_URL, 'http://localhost:4040')
  assert.equal(part(plan, 'todo').env.PATH, '/bin', 'the rest of the environment is passed through')
  assert.deepEqual(plan.urls, [
    { label: 'main app', url: 'http://localhost:4040' },
    { label: 'todo standalone', url: 'http://localhost:4001' },
    { label: 'chat standalone', url: 'http://localhost:4002' },
    { label: 'news standalone', url: 'http://localhost:4003' },
    { label: 'gateway health', url: 'http://localhost:4040/healthz' },
  ])
  assert.equal(plan.listenHost, '127.0.0.1')
  assert.deepEqual(plan.notes, [])
})

test('GATEWAY_PORT moves the gateway, the services\' main-app link and the banner', () => {
  const plan = planRun({ GATEWAY_PORT: '5000' })
  assert.equal(part(plan, 'gateway').env.PORT, '5000')
  assert.equal(part(plan, 'gateway').portVar, 'GATEWAY_PORT')
  for (const name of ['todo', 'chat', 'news']) assert.equal(part(plan, name).env.DX_GATEWAY_URL, 'http://localhost:5000')
  assert.equal(plan.urls[0].url, 'http://localhost:5000')
  assert.equal(plan.urls.at(-1)!.url, 'http://localhost:5000/healthz')
})

test('a plain PORT is the gateway\'s port only, and the log says so', () => {
  const plan = planRun({ PORT: '5140' })
  assert.deepEqual(
    plan.parts.map((p) => p.env.PORT),
    ['4001', '4002', '4003', '5140'],
  )
  assert.equal(part(plan, 'gateway').portVar, 'PORT')
  assert.equal(plan.notes.length, 1)
  assert.match(plan.notes[0], /PORT=5140 is taken as the gateway's port/)
  // GATEWAY_PORT wins over PORT.
  const both = planRun({ PORT: '5140', GATEWAY_PORT: '5150' })
  assert.equal(part(both, 'gateway').env.PORT, '5150')
  assert.match(both.notes[0], /PORT=5140 is ignored/)
})

test('TODO_PORT sets the todo child\'s PORT and the gateway\'s TODO_URL and TODO_STANDALONE_URL', () => {
  const plan = planRun({ TODO_PORT: '5001', PORT: '5000' })
  const todo = part(plan, 'todo')
  assert.equal(todo.env.PORT, '5001')
  assert.equal(todo.portVar, 'TODO_PORT')
  assert.equal(todo.health, 'http://127.0.0.1:5001/healthz')
  assert.equal(part(plan, 'gateway').env.TODO_URL, 'http://127.0.0.1:5001')
  assert.equal(part(plan, 'gateway').env.TODO_STANDALONE_URL, 'http://localhost:5001')
  assert.equal(part(plan, 'gateway').env.CHAT_URL, 'http://127.0.0.1:4002')
  // No port variable of the user's reaches a child, where it could override its own PORT.
  for (const p of plan.parts) {
    for (const v of ['TODO_PORT', 'GATEWAY_PORT']) assert.equal(p.env[v], undefined, `${p.name} got ${v}`)
  }
})

test('HOST is passed through; a specific address is used in the URLs, a wildcard is not', () => {
  const any = planRun({ HOST: '0.0.0.0' })
  assert.equal(part(any, 'news').env.HOST, '0.0.0.0')
  assert.equal(part(any, 'gateway').env.NEWS_URL, 'http://127.0.0.1:4003')
  assert.equal(any.urls[0].url, 'http://localhost:4040')
  const lan = planRun({ HOST: '10.1.2.3' })
  assert.equal(part(lan, 'gateway').env.NEWS_URL, 'http://10.1.2.3:4003')
  assert.equal(part(lan, 'todo').env.DX_GATEWAY_URL, 'http://10.1.2.3:4040')
  assert.equal(lan.listenHost, '10.1.2.3')
})

test('start runs the services with tsx and the gateway from its bundle; watch runs every part with tsx and adds the css watcher', () => {
  const start = planRun({}, { node: '/n', tsx: '/t' })
  assert.deepEqual([part(start, 'todo').cmd, ...part(start, 'todo').args], ['/n', '--import', 'tsx', 'services/todo/src/main.ts'])
  assert.equal(part(start, 'todo').entry, 'services/todo/src/main.ts')
  assert.deepEqual([part(start, 'gateway').cmd, ...part(start, 'gateway').args], ['/n', '--max-semi-space-size=4', '--heap-growing-percent=20', '--liftoff-only', '--single-threaded-gc', '--v8-pool-size=1', 'gateway/dist/main.mjs'])
  const watch = planRun({}, { watch: true, node: '/n', tsx: '/t', tailwind: '/tw' })
  assert.deepEqual([part(watch, 'gateway').cmd, ...part(watch, 'gateway').args], ['/n', '--import', 'tsx', 'gateway/src/main.ts'])
  assert.equal(part(watch, 'gateway').entry, 'gateway/src/main.ts')
  const css = part(watch, 'css')
  assert.equal(css.cmd, '/tw')
  assert.equal(css.port, undefined)
  assert.equal(css.health, undefined)
})

test('watch mode: every part gets DX_DEV=1 and the reload stream\'s URL; start gets neither, even from the shell', () => {
  const watch = planRun({}, { watch: true })
  assert.deepEqual(watch.dev, { port: 4090, portVar: 'DX_DEV_PORT', url: 'http://localhost:4090' })
  for (const name of ['todo', 'chat', 'news', 'gateway']) {
    assert.equal(part(watch, name).env.DX_DEV, '1', name)
    assert.equal(part(watch, name).env.DX_DEV_URL, 'http://localhost:4090', name)
  }
  const moved = planRun({ DX_DEV_PORT: '5090', HOST: '10.1.2.3' }, { watch: true })
  assert.equal(moved.dev!.url, 'http://10.1.2.3:5090')
  assert.equal(part(moved, 'todo').env.DX_DEV_URL, 'http://10.1.2.3:5090')
  assert.equal(part(moved, 'todo').env.DX_DEV_PORT, undefined)
  const start = planRun({ DX_DEV: '1', DX_DEV_URL: 'http://localhost:1', DX_DEV_PORT: '5090' })
  assert.equal(start.dev, undefined)
  for (const p of start.parts) assert.deepEqual([p.env.DX_DEV, p.env.DX_DEV_URL], [undefined, undefined], p.name)
})

test('watch mode: the reload stream\'s port is checked like the others', () => {
  assert.throws(() => planRun({ DX_DEV_PORT: '4001' }, { watch: true }), {
    message: 'TODO_PORT (default) and DX_DEV_PORT both give port 4001: each part needs its own port',
  })
  assert.throws(() => planRun({ TODO_PORT: '4090' }, { watch: true }), /TODO_PORT and DX_DEV_PORT \(default\) both give port 4090/)
  assert.throws(() => planRun({ DX_DEV_PORT: 'x' }, { watch: true }), /DX_DEV_PORT="x" is not a port/)
  assert.doesNotThrow(() => planRun({ TODO_PORT: '4090' }), 'without watch there is no reload stream')
})

test('a bad port value is one clear error naming the variable', () => {
  for (const [name, value] of [
    ['TODO_PORT', 'abc'],
    ['CHAT_PORT', '70000'],
    ['NEWS_PORT', '0'],
    ['GATEWAY_PORT', '-1'],
    ['PORT', '40.5'],
  ]) {
    assert.throws(
      () => planRun({ [name]: value }),
      (e: unknown) => e instanceof PlanError && e.message === `${name}=${JSON.stringify(value)} is not a port: expected a whole number from 1 to 65535`,
      name,
    )
  }
  // An empty value means unset, as it does for the other variables.
  assert.equal(part(planRun({ TODO_PORT: '' }), 'todo').env.PORT, '4001')
})

test('two parts on one port is one clear error naming both variables', () => {
  assert.throws(() => planRun({ TODO_PORT: '5000', CHAT_PORT: '5000' }), {
    message: 'TODO_PORT and CHAT_PORT both give port 5000: each part needs its own port',
  })
  assert.throws(() => planRun({ PORT: '4001' }), {
    message: 'PORT and TODO_PORT (default) both give port 4001: each part needs its own port',
  })
  assert.throws(() => planRun({ NEWS_PORT: '4040' }), /GATEWAY_PORT \(default\) and NEWS_PORT both give port 4040/)
})

test('the Python clock: started with the python3 given, on CLOCK_PORT, and the gateway told where it is', () => {
  const plan = planRun({ CLOCK_PORT: '5004', PORT: '5000' }, { python: '/opt/py/python3', node: '/n' })
  assert.deepEqual(plan.parts.map((p) => p.name), ['todo', 'chat', 'news', 'clock', 'gateway'])
  const clock = part(plan, 'clock')
  assert.deepEqual([clock.cmd, ...clock.args], ['/opt/py/python3', 'examples/python-clock/clock.py'])
  assert.equal(clock.env.PORT, '5004')
  assert.equal(clock.env.DX_GATEWAY_URL, 'http://localhost:5000')
  assert.equal(clock.portVar, 'CLOCK_PORT')
  assert.equal(clock.health, 'http://127.0.0.1:5004/healthz')
  assert.equal(clock.env.CLOCK_PORT, undefined)
  assert.equal(part(plan, 'gateway').env.CLOCK_URL, 'http://127.0.0.1:5004', 'the optional clock is switched on in the gateway')
  assert.equal(part(plan, 'gateway').env.CLOCK_STANDALONE_URL, 'http://localhost:5004')
  assert.ok(plan.urls.some((u) => u.label === 'clock standalone' && u.url === 'http://localhost:5004'))
  // Watch mode: Python is started as is, the TypeScript parts under tsx watch.
  assert.equal(part(planRun({}, { python: '/py', watch: true }), 'clock').cmd, '/py')
  assert.throws(() => planRun({ CLOCK_PORT: '4001' }, { python: '/py' }), /TODO_PORT \(default\) and CLOCK_PORT both give port 4001/)
})

test('without python3 there is no clock part, and the gateway gets no CLOCK_URL', () => {
  for (const plan of [planRun({}, { python: null }), planRun({ DX_PYTHON: '' }), planRun({ PATH: '' })]) {
    assert.deepEqual(plan.parts.map((p) => p.name), ['todo', 'chat', 'news', 'gateway'])
    assert.equal(part(plan, 'gateway').env.CLOCK_URL, undefined)
    assert.ok(!plan.urls.some((u) => u.label.startsWith('clock')))
  }
  // DX_PYTHON names the interpreter; otherwise python3 is looked up on PATH.
  assert.equal(part(planRun({ DX_PYTHON: '/usr/local/bin/python3.12' }), 'clock').cmd, '/usr/local/bin/python3.12')
})

test('findOnPath: the first executable of that name on PATH', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dx-path-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'notexec'), '')
  writeFileSync(join(dir, 'python3'), '#!/bin/sh\n')
  chmodSync(join(dir, 'python3'), 0o755)
  assert.equal(findOnPath('python3', `/no/such/dir${delimiter}${dir}`), join(dir, 'python3'))
  assert.equal(findOnPath('notexec', dir), undefined)
  assert.equal(findOnPath('python3', ''), undefined)
  assert.equal(part(planRun({ PATH: dir }), 'clock').cmd, join(dir, 'python3'))
})
