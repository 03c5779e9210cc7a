import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { freePort, Proc } from '@dx/testkit'

const entry = 'packages/kit/test/fixtures/demo-service.ts'

async function demo(env: Record<string, string> = {}, host = '127.0.0.1') {
  const port = await freePort()
  return new Proc({ name: 'demo', entry, port, env, ready: `http://${host}:${port}/healthz` }).start()
}

/** Sends raw bytes and resolves with the status line of the answer, or how the connection ended. */
function raw(host: string, port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, host, () => s.write(bytes))
    let got = ''
    s.on('data', (d) => {
      got += d
      if (got.includes('\r\n')) {
        resolve(got.slice(0, got.indexOf('\r\n')))
        s.destroy()
      }
    })
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    s.on('close', () => resolve(got || 'closed without an answer'))
  })
}

/** The JSON log lines of a process's output (other lines, if any, are skipped). */
const logLines = (output: string) =>
  output.split('\n').flatMap((line) => {
    try {
      const v = JSON.parse(line) as Record<string, unknown>
      return v && typeof v === 'object' ? [v] : []
    } catch {
      return []
    }
  })

const exited = (p: Proc) => new Promise<number | null>((r) => (p.child!.exitCode !== null ? r(p.child!.exitCode) : p.child!.once('exit', (code) => r(code))))

test('a service listens on 127.0.0.1 unless HOST says otherwise', async () => {
  const local = await demo()
  try {
    const port = local.opts.port
    assert.equal(await raw('127.0.0.1', port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n'), 'HTTP/1.1 200 OK')
    // Every 127/8 address is this machine: one the service was not bound to is refused.
    assert.equal(await raw('127.0.0.2', port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n'), 'ECONNREFUSED')
    assert.match(local.output, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`))
  } finally {
    await local.stop()
  }
  const other = await demo({ HOST: '127.0.0.2' }, '127.0.0.2')
  try {
    assert.equal(await raw('127.0.0.2', other.opts.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n'), 'HTTP/1.1 200 OK')
    assert.equal(await raw('127.0.0.1', other.opts.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n'), 'ECONNREFUSED')
  } finally {
    await other.stop()
  }
})

test('request targets and hosts that do not parse get 400 (or 404), and the process stays up', async () => {
  const p = await demo()
  try {
    const send = (line: string, host = 'host: 127.0.0.1\r\n') => raw('127.0.0.1', p.opts.port, `${line}\r\n${host}connection: close\r\n\r\n`)
    assert.equal(await send('GET http://x:99999/ HTTP/1.1'), 'HTTP/1.1 400 Bad Request')
    assert.equal(await send('GET http://x:99999/demo HTTP/1.1', 'host: x:99999\r\n'), 'HTTP/1.1 400 Bad Request')
    assert.equal(await send('GET /demo HTTP/1.1', 'host: x:99999\r\n'), 'HTTP/1.1 400 Bad Request')
    assert.equal(await send('GET /demo HTTP/1.1', 'host: [::1\r\n'), 'HTTP/1.1 400 Bad Request')
    assert.equal(await send('GET * HTTP/1.1'), 'HTTP/1.1 400 Bad Request')
    assert.equal(await send('GET //a:99999/demo HTTP/1.1'), 'HTTP/1.1 404 Not Found')
    assert.equal(await send('POST //a:99999/demo/echo HTTP/1.1'), 'HTTP/1.1 404 Not Found')
    assert.equal(p.child!.exitCode, null)
    assert.equal((await fetch(`${p.url}/healthz`)).status, 200)
  } finally {
    await p.stop()
  }
})

test('a body announced over the limit is refused at once, without waiting for it', async () => {
  const p = await demo({ DX_BODY_LIMIT_BYTES: '1000' })
  try {
    // Ten megabytes announced, a few bytes sent: the answer comes from the headers alone.
    const head = 'POST /demo/echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/plain\r\ncontent-length: 10000000\r\n\r\nabc'
    assert.equal(await raw('127.0.0.1', p.opts.port, head), 'HTTP/1.1 413 Payload Too Large')
    const chunked = await fetch(`${p.url}/demo/echo`, {
      method: 'POST',
      body: new ReadableStream({
        start(ctl) {
          for (let i = 0; i < 5; i++) ctl.enqueue(new Uint8Array(300))
          ctl.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
    assert.equal(chunked.status, 413)
    assert.equal(await chunked.text(), 'Request body too large: this service accepts at most 1000 bytes.')
    const fits = await fetch(`${p.url}/demo/echo`, { method: 'POST', body: 'x'.repeat(1000) })
    assert.equal(await fits.text(), 'read 1000 bytes')
  } finally {
    await p.stop()
  }
})

for (const [route, what, message] of [
  ['throw-later', 'uncaught exception', 'thrown outside any request'],
  ['reject-later', 'unhandled promise rejection', 'a promise nobody awaited'],
] as const) {
  test(`an ${what} is logged with its stack and the process exits 1 for its supervisor`, async () => {
    const p = await demo()
    try {
      const code = exited(p)
      assert.equal(await (await fetch(`${p.url}/demo/${route}`, { method: 'POST' })).text(), 'armed')
      assert.equal(await code, 1)
      // The log is JSON lines (stdout is not a terminal): the crash is one line, stack included.
      const crash = logLines(p.output).find((l) => l.level === 'error' && l.name === 'demo')
      assert.match(String(crash?.msg), new RegExp(`^${what}; exiting so that a supervisor restarts the service\\nError: ${message}\\n\\s+at `), p.output)
    } finally {
      await p.stop()
    }
  })
}
