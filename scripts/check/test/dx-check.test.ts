// dx-check as a user runs it (the bin launcher, a child process) against real services:
// todo, chat and news as the testkit starts them, the Python clock, a deliberately broken
// service, and a port that never answers.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort, root, startSystem, type System } from '@dx/testkit'
import { NO_PYTHON, python, startClock } from '../../../examples/python-clock/test/helpers.js'

type Run = { code: number | null; out: string; err: string }

function dxCheck(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = { ...process.env }
  delete clean.DX_EVENT_SECRET
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'scripts/dx-check.js'), ...args], { cwd: tmpdir(), env: { ...clean, ...env }, timeout: 120_000 }, (err, out, errOut) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out, err: errOut })
    })
  })
}

const lines = (r: Run, status: 'PASS' | 'FAIL' | 'SKIP') => r.out.split('\n').filter((l) => l.startsWith(`${status}  `))

describe('dx-check against the TypeScript services', () => {
  const secret = randomBytes(16).toString('hex')
  let sys: System
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dx-check-'))
    sys = await startSystem({
      services: ['todo', 'chat', 'news'],
      dataDir: dir,
      env: { DX_EVENT_SECRET: secret },
      serviceEnv: { news: { NEWS_HN_URL: `http://127.0.0.1:${await freePort()}/v0` } },
    })
  })
  after(async () => {
    await sys?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const name of ['todo', 'chat', 'news'] as const) {
    test(`${name} passes every check`, async () => {
      const r = await dxCheck(['--secret', secret, sys.services[name]!.url])
      assert.equal(r.code, 0, r.out + r.err)
      assert.deepEqual(lines(r, 'FAIL'), [])
      for (const check of ['healthz', 'manifest', 'standalone page', 'shared look', 'widget fragment', 'prefix discipline', 'security headers', 'bad signature refused', 'signed event accepted', 'stale event refused', 'cross-site write refused']) {
        assert.ok(lines(r, 'PASS').some((l) => l.startsWith(`PASS  ${check}: `)), `${check} passed:\n${r.out}`)
      }
      assert.match(r.out, /^OK: \d+ passed, 0 failed, \d+ skipped$/m)
    })
  }

  test('without a secret the signed-delivery checks are skipped with the reason, not failed', async () => {
    const r = await dxCheck([sys.services.todo!.url])
    assert.equal(r.code, 0, r.out)
    assert.ok(r.out.includes('SKIP  signed event accepted: no secret: set DX_EVENT_SECRET or pass --secret'), r.out)
    // The env variable works as well as the flag.
    const env = await dxCheck([sys.services.todo!.url], { DX_EVENT_SECRET: secret })
    assert.ok(lines(env, 'PASS').some((l) => l.startsWith('PASS  signed event accepted')), env.out)
  })

  test('a wrong secret fails the signed check, saying why', async () => {
    const r = await dxCheck(['--secret', 'not-it', sys.services.todo!.url])
    assert.equal(r.code, 1)
    assert.ok(r.out.includes("FAIL  signed event accepted: a correctly signed envelope was refused with 401: is --secret the service's DX_EVENT_SECRET?"), r.out)
  })
})

describe('dx-check against the Python clock', { skip: python ? false : NO_PYTHON }, () => {
  test('passes every check, the tick\'s HX-Trigger included', async (t) => {
    const secret = randomBytes(16).toString('hex')
    const clock = await startClock({ DX_EVENT_SECRET: secret, DX_GATEWAY_URL: 'http://127.0.0.1:9' })
    t.after(() => clock.stop())
    const r = await dxCheck(['--secret', secret, '--post', '/clock/tick', clock.url])
    assert.equal(r.code, 0, r.out + r.err)
    assert.deepEqual(lines(r, 'FAIL'), [])
    assert.deepEqual(lines(r, 'SKIP'), [])
    assert.ok(r.out.includes('PASS  HX-Trigger syntax: hx-trigger: clock:ticked'), r.out)
  })
})

describe('dx-check against services that break the protocol', () => {
  let broken: Server
  let url: string
  before(async () => {
    // Everything a careless service gets wrong, one thing per route.
    broken = createServer((req, res) => {
      const path = req.url ?? '/'
      req.resume()
      if (path === '/healthz') return res.end('ok')
      if (path === '/_dx/manifest') {
        res.setHeader('content-type', 'application/json')
        return res.end(JSON.stringify({ name: 'bad', prefix: '/bad', widget: '/bad', subscribes: [] }))
      }
      res.setHeader('content-type', 'text/html; charset=utf-8')
      if (path === '/') return res.end('<div>no page here</div>')
      if (path === '/bad') {
        res.setHeader('hx-trigger', 'ticked')
        res.setHeader('content-security-policy', "script-src 'self' 'unsafe-inline'")
        return res.end('<!doctype html><html><head></head><body><button hx-post="/other/do">x</button><a href="items">i</a></body></html>')
      }
      if (path === '/_dx/events') return res.end('{"status":"ok"}')
      res.statusCode = 404
      res.end('no')
    })
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(broken.address() as { port: number }).port}`
  })
  after(() => new Promise<void>((r) => broken.close(() => r())))

  test('each broken rule is one clear FAIL line; exit 1', async () => {
    const r = await dxCheck(['--secret', 's', url])
    assert.equal(r.code, 1, r.out)
    const fails = lines(r, 'FAIL').join('\n')
    for (const expected of [
      'FAIL  healthz: GET /healthz answered 200 but not {"status":"ok"}: "ok"',
      'FAIL  standalone page: GET / is not a full HTML document',
      'FAIL  widget fragment: GET /bad: it contains <!doctype>',
      'FAIL  prefix discipline: hx-post="/other/do" is outside /bad; href="items" is relative',
      "FAIL  security headers: /: no Content-Security-Policy",
      "/bad: scripts allow 'unsafe-inline'",
      'FAIL  bad signature refused: POST /_dx/events with a wrong X-Dx-Signature answered 200, expected 401',
      'FAIL  stale event refused',
      'FAIL  cross-site write refused',
      'FAIL  HX-Trigger syntax: hx-trigger on /bad: event "ticked" is not named "bad:verb"',
    ]) {
      assert.ok(fails.includes(expected), `expected «${expected}» in:\n${r.out}`)
    }
    assert.match(r.out, /^FAILED: \d+ passed, \d+ failed, \d+ skipped$/m)
  })

  test('a port that accepts but never answers: one FAIL line within the timeout, exit 1', async (t) => {
    const sockets: Socket[] = []
    const silent = createTcpServer((s) => sockets.push(s))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    t.after(() => {
      for (const s of sockets) s.destroy()
      silent.close()
    })
    const r = await dxCheck(['--timeout', '300', `http://127.0.0.1:${(silent.address() as { port: number }).port}`])
    assert.equal(r.code, 1)
    assert.match(r.out, /^FAIL  service answers: GET http:\/\/127\.0\.0\.1:\d+\/healthz: no answer within 300 ms; nothing else was checked$/m)
  })

  test('a closed port: connection refused, exit 1; bad usage: the usage, exit 2', async () => {
    const r = await dxCheck([`http://127.0.0.1:${await freePort()}`])
    assert.equal(r.code, 1)
    assert.match(r.out, /FAIL  service answers: .*connection refused/)
    const usage = await dxCheck(['--nope'])
    assert.equal(usage.code, 2)
    assert.match(usage.err, /^dx-check: unknown option --nope\n\nusage: dx-check/)
  })
})
