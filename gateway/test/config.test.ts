import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, envVarFor, parseConfig } from '../src/config.js'

const ok = `
[gateway]
port = 4040

[[services]]
name = "todo"
upstreams = ["http://127.0.0.1:4001"]
`

const fails = (text: string, pattern: RegExp, env = {}) =>
  assert.throws(() => parseConfig(text, 'gw.toml', env), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`)
    assert.match(e.message, pattern)
    return true
  })

test('a minimal config gets defaults for everything else', () => {
  const cfg = parseConfig(ok, 'gw.toml')
  assert.equal(cfg.port, 4040)
  assert.equal(cfg.bodyLimitBytes, 1048576)
  const [s] = cfg.services
  assert.equal(s.prefix, '/todo')
  assert.equal(s.widget, '/todo')
  assert.equal(s.title, 'Todo')
  assert.equal(s.connectTimeoutMs, 1000)
  assert.equal(s.responseTimeoutMs, 5000)
  assert.deepEqual(s.upstreams.map(String), ['http://127.0.0.1:4001/'])
})

test('an unknown key is named with its place and the file', () => {
  fails(ok.replace('name = "todo"', 'name = "todo"\nupstream = "x"'), /^gw\.toml: services\[0\]: unknown key\(s\) "upstream"/)
  fails(ok.replace('port = 4040', 'port = 4040\nprot = 1'), /gw\.toml: gateway: unknown key\(s\) "prot"/)
})

test('a wrong type names the field and what was expected', () => {
  fails(ok + 'connect_timeout_ms = "1s"\n', /gw\.toml: services\[0\]\.connect_timeout_ms: .*expected number/)
  fails(ok.replace('port = 4040', 'port = "4040"'), /gw\.toml: gateway\.port: .*expected number/)
  fails(ok.replace('upstreams = ["http://127.0.0.1:4001"]', 'upstreams = "http://127.0.0.1:4001"'), /services\[0\]\.upstreams: .*expected array/)
})

test('a bad URL is rejected with an example of a good one', () => {
  fails(ok.replace('http://127.0.0.1:4001', 'localhost:4001'), /services\[0\]\.upstreams\[0\]: expected an http:\/\/ or https:\/\/ URL/)
  fails(ok.replace('http://127.0.0.1:4001', 'ftp://h:1'), /upstreams\[0\]: expected an http/)
  fails(ok.replace('http://127.0.0.1:4001', 'http://h:1/path'), /upstreams\[0\]: expected an http/)
})

test('bad names, reserved and duplicate prefixes, missing services', () => {
  fails(ok.replace('"todo"', '"To Do"'), /services\[0\]\.name: expected a lowercase name/)
  fails(ok + 'prefix = "/assets"\n', /services\[0\]\.prefix: "\/assets" is reserved/)
  fails(ok + 'prefix = "/_dx"\n', /services\[0\]\.prefix: expected one path segment/)
  fails(ok + ok.replace('[gateway]\nport = 4040', ''), /services\[1\]\.prefix: "\/todo" is used twice/)
  fails('[gateway]\nport = 1\n', /gw\.toml: services: /)
  fails('this is = = not toml', /gw\.toml: not valid TOML/)
})

test('env overrides upstreams (comma-separated replicas) and the port', () => {
  const cfg = parseConfig(ok, 'gw.toml', { TODO_URL: 'http://a:1, http://b:2', PORT: '5050' })
  assert.deepEqual(cfg.services[0].upstreams.map((u) => u.host), ['a:1', 'b:2'])
  assert.equal(cfg.port, 5050)
  assert.deepEqual(parseConfig(ok, 'gw.toml', { TODO_URL: '' }).services[0].upstreams, [])
  fails(ok, /env TODO_URL: "nope": expected an http/, { TODO_URL: 'nope' })
  fails(ok, /env PORT: expected a port number/, { PORT: 'abc' })
  assert.equal(envVarFor('my-svc'), 'MY_SVC_URL')
})
